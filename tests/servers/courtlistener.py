"""A local CourtListener REST API v4 (and its file storage) for tests and
benchmarks: same paths, auth, filters, pagination, throttling and field
names as https://www.courtlistener.com/api/rest/v4/, serving ``cases.Case``
objects. Standard library only.

    with CourtListenerServer(wechat_cases()) as cl:
        cl.api_url      # http://127.0.0.1:PORT/api/rest/v4/
        cl.storage_url  # http://127.0.0.1:PORT2/   (+ filepath_local)
        cl.log          # [{method, path, query, status, kind}, ...]

Behaviour modelled on CourtListener's own code (cl/api/pagination.py,
cl/search/api_views.py, cl/search/api_serializers.py): default ordering
``-id`` with cursor pagination when ordering by id/date_created/
date_modified (either direction), page numbers otherwise (at most 100 pages
deep); ``count=on``; ``fields``/``omit``; token auth; unknown filter names
answered 400; a related filter on a missing object answered 400 as
django-filter does ("Select a valid choice").
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import math
import re
import threading
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from .base import Failures, LocalServer, Request, RequestLog, Response, ServerLifecycle
from .cases import API, Case, default_shared_dir

API_PREFIX = "/api/rest/v4/"

_NUM = ("exact", "gte", "gt", "lte", "lt", "range")
_DATE = ("exact", "gte", "gt", "lte", "lt", "range", "year", "month", "day")
_DATETIME = _DATE + ("hour", "minute", "second")
_NAME = ("exact", "iexact", "startswith", "istartswith")

# The filters and orderings of the endpoints served, as the real API's OPTIONS
# answer describes them (../shared/reference/courtlistener_v4_options.json,
# which is read instead when present). RelatedFilter entries name the filter
# set they lead to.
EMBEDDED_SCHEMA = {
    "dockets": {
        "filters": {
            "id": ("NumberFilter", _NUM), "date_modified": ("IsoDateTimeFilter", _DATETIME),
            "date_created": ("IsoDateTimeFilter", _DATETIME), "date_filed": ("DateFilter", _DATE),
            "date_terminated": ("DateFilter", _DATE), "date_last_filing": ("DateFilter", _DATE),
            "docket_number": ("CharFilter", ("exact",)), "docket_number_core": ("CharFilter", ("exact", "startswith")),
            "nature_of_suit": ("CharFilter", _NAME), "pacer_case_id": ("CharFilter", ("exact",)),
            "source": ("ChoiceFilter", ("exact", "in")), "date_blocked": ("DateFilter", _DATE),
            "blocked": ("BooleanFilter", ("exact",)), "court": ("RelatedFilter", "Courts"),
            "clusters": ("RelatedFilter", "Opinion Clusters"), "docket_entries": ("RelatedFilter", "Docket Entries"),
            "audio_files": ("RelatedFilter", "Audio Files"), "assigned_to": ("RelatedFilter", "People"),
            "referred_to": ("RelatedFilter", "People"), "parties": ("RelatedFilter", "Parties"),
            "tags": ("RelatedFilter", "Tags"),
        },
        "ordering": ["id", "date_created", "date_modified", "date_blocked", "date_filed", "date_terminated",
                     "date_last_filing"],
    },
    "docket-entries": {
        "filters": {
            "id": ("NumberFilter", _NUM), "entry_number": ("NumberFilter", _NUM + ("isnull",)),
            "date_created": ("IsoDateTimeFilter", _DATETIME), "date_modified": ("IsoDateTimeFilter", _DATETIME),
            "date_filed": ("DateFilter", _DATE), "pacer_sequence_number": ("NumberFilter", _NUM + ("isnull",)),
            "docket": ("RelatedFilter", "Dockets"), "recap_documents": ("RelatedFilter", "Recap Documents"),
            "tags": ("RelatedFilter", "Tags"),
        },
        "ordering": ["id", "date_created", "date_modified", "date_filed", "recap_sequence_number", "entry_number"],
    },
    "recap-documents": {
        "filters": {
            "id": ("NumberFilter", _NUM), "date_created": ("IsoDateTimeFilter", _DATETIME),
            "date_modified": ("IsoDateTimeFilter", _DATETIME), "date_upload": ("IsoDateTimeFilter", _DATETIME),
            "document_type": ("ChoiceFilter", ("exact",), (1, 2)),
            "document_number": ("CharFilter", ("exact", "gte", "gt", "lte", "lt")),
            "pacer_doc_id": ("CharFilter", ("exact", "in")), "is_available": ("BooleanFilter", ("exact",)),
            "sha1": ("CharFilter", ("exact",)), "ocr_status": ("ChoiceFilter", _NUM, (1, 2, 3, 4)),
            "is_free_on_pacer": ("BooleanFilter", ("exact",)), "docket_entry": ("RelatedFilter", "Docket Entries"),
            "tags": ("RelatedFilter", "Tags"),
        },
        "ordering": ["id", "date_created", "date_modified", "date_upload"],
    },
    "parties": {
        "filters": {
            "id": ("NumberFilter", _NUM), "date_created": ("IsoDateTimeFilter", _DATETIME),
            "date_modified": ("IsoDateTimeFilter", _DATETIME), "name": ("CharFilter", _NAME),
            "docket": ("RelatedFilter", "Dockets"), "attorney": ("RelatedFilter", "Attorneys"),
            "filter_nested_results": ("BooleanFilter", ("exact",)),
        },
        "ordering": ["id", "date_created", "date_modified"],
    },
    "attorneys": {
        "filters": {
            "id": ("NumberFilter", _NUM), "date_created": ("IsoDateTimeFilter", _DATETIME),
            "date_modified": ("IsoDateTimeFilter", _DATETIME), "name": ("CharFilter", _NAME),
            "docket": ("RelatedFilter", "Dockets"), "parties_represented": ("RelatedFilter", "Parties"),
            "filter_nested_results": ("BooleanFilter", ("exact",)),
        },
        "ordering": ["id", "date_created", "date_modified"],
    },
    "courts": {
        "filters": {
            "id": ("CharFilter", ("exact",)), "date_modified": ("IsoDateTimeFilter", _DATETIME),
            "in_use": ("BooleanFilter", ("exact",)), "has_opinion_scraper": ("BooleanFilter", ("exact",)),
            "has_oral_argument_scraper": ("BooleanFilter", ("exact",)), "position": ("NumberFilter", _NUM),
            "start_date": ("DateFilter", _DATE), "end_date": ("DateFilter", _DATE),
            "short_name": ("CharFilter", _NAME), "full_name": ("CharFilter", _NAME),
            "citation_string": ("CharFilter", _NAME), "dockets": ("RelatedFilter", "Dockets"),
            "jurisdiction": ("MultipleChoiceFilter", ("exact",)), "parent_court": ("CharFilter", ("exact",)),
        },
        "ordering": ["id", "date_modified", "position", "start_date", "end_date"],
    },
}

# "See available filters for 'X'" -> endpoint
FILTERSET_ENDPOINTS = {
    "Dockets": "dockets", "Docket Entries": "docket-entries", "Recap Documents": "recap-documents",
    "Parties": "parties", "Attorneys": "attorneys", "Courts": "courts",
}
SERVED = ("dockets", "docket-entries", "recap-documents", "parties", "attorneys", "courts")
GENERIC_PARAMS = {"cursor", "page", "page_size", "order_by", "fields", "omit", "count", "format"}
CURSOR_ORDERINGS = ("id", "date_created", "date_modified")
DEFAULT_ORDERING = "-id"
MAX_PAGINATION_DEPTH = 100

COURTS = {
    "cand": ("District Court, N.D. California", "N.D. California", "N.D. Cal.", "FD", "https://www.cand.uscourts.gov/"),
    "ca9": ("Court of Appeals for the Ninth Circuit", "Ninth Circuit", "9th Cir.", "F", "http://www.ca9.uscourts.gov/"),
}


def load_schema(options_path: Optional[Path] = None) -> dict:
    """The filter schema: from the real OPTIONS capture when present, else embedded."""
    path = options_path or default_shared_dir() / "reference" / "courtlistener_v4_options.json"
    try:
        options = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return EMBEDDED_SCHEMA
    schema = {}
    for endpoint in SERVED:
        section = options.get(endpoint) or {}
        if "filters" not in section:
            return EMBEDDED_SCHEMA
        filters = {}
        for name, spec in section["filters"].items():
            if spec["type"] == "RelatedFilter":
                match = re.search(r"'(.*)'", spec["lookup_types"])
                filters[name] = ("RelatedFilter", match.group(1) if match else "")
            elif "choices" in spec and spec["type"] == "ChoiceFilter":
                filters[name] = (spec["type"], tuple(spec["lookup_types"]),
                                 tuple(c["value"] for c in spec["choices"]))
            else:
                filters[name] = (spec["type"], tuple(spec["lookup_types"]))
        schema[endpoint] = {"filters": filters, "ordering": section.get("ordering") or []}
    return schema


class BadRequest(Exception):
    def __init__(self, body: dict, status: int = 400):
        super().__init__(body)
        self.body = body
        self.status = status


class NotServed(Exception):
    """A valid filter this local server does not implement."""


# --- values --------------------------------------------------------------------

try:
    from zoneinfo import ZoneInfo

    PACIFIC = ZoneInfo("America/Los_Angeles")  # CourtListener's TIME_ZONE
except Exception:  # pragma: no cover - no tz database
    PACIFIC = dt.timezone(dt.timedelta(hours=-8))


def parse_datetime(text: str) -> dt.datetime:
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PACIFIC)
    return moment


def _coerce(ftype: str, lookup: str, raw: str, name: str, choices=None):
    """The filter value as Python, or a 400 like django-filter's."""

    def one(text):
        text = text.strip()
        try:
            if ftype == "NumberFilter":
                return Decimal(text)
            if ftype == "DateFilter":
                return dt.date.fromisoformat(text)
            if ftype == "IsoDateTimeFilter":
                return parse_datetime(text)
        except (InvalidOperation, ValueError):
            message = {"NumberFilter": "Enter a number.", "DateFilter": "Enter a valid date.",
                       "IsoDateTimeFilter": "Enter a valid date/time."}[ftype]
            raise BadRequest({name: [message]})
        if ftype == "BooleanFilter":
            lowered = text.lower()
            if lowered in ("true", "1", "on", "yes"):
                return True
            if lowered in ("false", "0", "off", "no"):
                return False
            raise BadRequest({name: ["Select a valid choice. %s is not one of the available choices." % text]})
        if ftype == "ChoiceFilter" and choices and text not in {str(c) for c in choices}:
            raise BadRequest({name: ["Select a valid choice. %s is not one of the available choices." % text]})
        return text

    if lookup in ("year", "month", "day", "hour", "minute", "second"):
        try:
            return int(raw)
        except ValueError:
            raise BadRequest({name: ["Enter a number."]})
    if lookup == "isnull":
        return _coerce("BooleanFilter", "exact", raw, name)
    if lookup in ("range", "in"):
        parts = raw.split(",")
        if lookup == "range" and len(parts) != 2:
            raise BadRequest({name: ["Range query expects two values."]})
        return [one(p) for p in parts]
    return one(raw)


def _field_value(ftype: str, value):
    if value is None or value == "":
        return None if ftype != "CharFilter" else value
    if ftype == "NumberFilter":
        return Decimal(str(value))
    if ftype == "DateFilter":
        return dt.date.fromisoformat(str(value)[:10])
    if ftype == "IsoDateTimeFilter":
        return parse_datetime(str(value))
    if ftype == "BooleanFilter":
        return bool(value)
    return str(value)


def _compare(ftype: str, lookup: str, actual, wanted) -> bool:
    if lookup == "isnull":
        return (actual is None) == wanted
    if ftype == "IsoDateTimeFilter" and isinstance(actual, dt.datetime):
        local = actual.astimezone(PACIFIC)
        parts = {"year": local.year, "month": local.month, "day": local.day, "hour": local.hour,
                 "minute": local.minute, "second": local.second}
        if lookup in parts:
            return parts[lookup] == wanted
    if ftype == "DateFilter" and isinstance(actual, dt.date) and lookup in ("year", "month", "day"):
        return getattr(actual, lookup) == wanted
    if actual is None:
        return False
    if lookup == "exact":
        return actual == wanted
    if lookup == "iexact":
        return str(actual).lower() == str(wanted).lower()
    if lookup == "startswith":
        return str(actual).startswith(str(wanted))
    if lookup == "istartswith":
        return str(actual).lower().startswith(str(wanted).lower())
    if lookup == "in":
        return actual in wanted
    if lookup == "range":
        return wanted[0] <= actual <= wanted[1]
    if ftype == "ChoiceFilter":  # numeric choices compare as numbers
        actual, wanted = Decimal(str(actual)), Decimal(str(wanted))
    if lookup == "gte":
        return actual >= wanted
    if lookup == "gt":
        return actual > wanted
    if lookup == "lte":
        return actual <= wanted
    if lookup == "lt":
        return actual < wanted
    raise NotServed(lookup)


# --- URLs ----------------------------------------------------------------------

def replace_query_param(url: str, key: str, value) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    items = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != key]
    if value is not None:
        items.append((key, str(value)))
    return urlunsplit((scheme, netloc, path, urlencode(items), fragment))


def encode_cursor(position: str, reverse: bool) -> str:
    tokens = {"p": position}
    if reverse:
        tokens["r"] = "1"
    return base64.b64encode(urlencode(tokens).encode("ascii")).decode("ascii")


def decode_cursor(encoded: str):
    try:
        tokens = dict(parse_qsl(base64.b64decode(encoded.encode("ascii"), validate=True).decode("ascii"),
                                keep_blank_values=True))
        position = tokens["p"]
        reverse = tokens.get("r", "0") == "1"
        value, _, ident = position.rpartition("|")
        return value, int(ident), reverse
    except Exception:
        raise BadRequest({"detail": "Invalid cursor"}, 404)


# --- the data, indexed -----------------------------------------------------------

class Index:
    """Every object the server knows, with the links filters follow."""

    def __init__(self, cases: list[Case]):
        self.objects = {name: [] for name in SERVED}
        self.by_id = {name: {} for name in SERVED}
        self.entry_docket = {}
        self.document_entry = {}
        self.party_dockets = {}
        self.attorney_dockets = {}
        self.attorney_parties = {}
        self.party_attorneys = {}
        self.files = {}
        courts = {}
        for case in cases:
            with case.lock:
                docket = case.docket
                self._add("dockets", docket)
                courts.setdefault(docket["court_id"], court_object(docket["court_id"]))
                for entry in case.entries:
                    self._add("docket-entries", entry)
                    self.entry_docket[entry["id"]] = docket["id"]
                    for document in entry["recap_documents"]:
                        self._add("recap-documents", document)
                        self.document_entry[document["id"]] = entry["id"]
                for party in case.parties:
                    self._add("parties", party)
                    ids = {t["docket_id"] for t in party["party_types"]} | {a["docket_id"] for a in party["attorneys"]}
                    self.party_dockets[party["id"]] = ids
                    self.party_attorneys[party["id"]] = {a["attorney_id"] for a in party["attorneys"]}
                    for role in party["attorneys"]:
                        self.attorney_parties.setdefault(role["attorney_id"], set()).add(party["id"])
                        self.attorney_dockets.setdefault(role["attorney_id"], set()).add(role["docket_id"])
                for attorney in case.attorneys:
                    self._add("attorneys", attorney)
                self.files.update(case.files)
        for court in courts.values():
            self._add("courts", court)

    def _add(self, endpoint, obj):
        if obj["id"] in self.by_id[endpoint]:
            raise ValueError("two %s with id %s" % (endpoint, obj["id"]))
        self.objects[endpoint].append(obj)
        self.by_id[endpoint][obj["id"]] = obj

    def related(self, endpoint: str, obj: dict, relation: str):
        """(target endpoint, related objects) or raise NotServed."""
        get = lambda target, ids: (target, [self.by_id[target][i] for i in ids if i in self.by_id[target]])  # noqa
        oid = obj["id"]
        if endpoint == "dockets":
            if relation == "court":
                return get("courts", [obj["court_id"]])
            if relation == "docket_entries":
                return get("docket-entries", [e for e, d in self.entry_docket.items() if d == oid])
            if relation == "parties":
                return get("parties", [p for p, ds in self.party_dockets.items() if oid in ds])
        elif endpoint == "docket-entries":
            if relation == "docket":
                return get("dockets", [self.entry_docket[oid]])
            if relation == "recap_documents":
                return "recap-documents", obj["recap_documents"]
        elif endpoint == "recap-documents":
            if relation == "docket_entry":
                return get("docket-entries", [self.document_entry[oid]])
        elif endpoint == "parties":
            if relation == "docket":
                return get("dockets", self.party_dockets.get(oid, ()))
            if relation == "attorney":
                return get("attorneys", self.party_attorneys.get(oid, ()))
        elif endpoint == "attorneys":
            if relation == "docket":
                return get("dockets", self.attorney_dockets.get(oid, ()))
            if relation == "parties_represented":
                return get("parties", self.attorney_parties.get(oid, ()))
        elif endpoint == "courts":
            if relation == "dockets":
                return "dockets", [d for d in self.objects["dockets"] if d["court_id"] == oid]
        raise NotServed("%s %s" % (endpoint, relation))


def court_object(court_id: str) -> dict:
    full, short, cite, jurisdiction, url = COURTS.get(
        court_id, ("Court %s" % court_id, court_id, court_id, "FD", ""))
    return {
        "resource_uri": API + "courts/%s/" % court_id, "id": court_id, "pacer_court_id": None,
        "pacer_has_rss_feed": None, "pacer_rss_entry_types": "", "date_last_pacer_contact": None,
        "fjc_court_id": "", "date_modified": "2024-01-01T00:00:00-08:00", "in_use": True,
        "has_opinion_scraper": True, "has_oral_argument_scraper": False, "position": 0.0,
        "citation_string": cite, "short_name": short, "full_name": full, "url": url,
        "start_date": None, "end_date": None, "jurisdiction": jurisdiction, "notes": "", "parent_court": None,
    }


class ParsedFilter:
    """``docket_entry__docket__id`` on recap-documents, understood."""

    def __init__(self, name, hops, ftype, lookup, choices=None, pk_endpoint=None):
        self.name = name
        self.hops = hops  # relations followed, in order
        self.ftype = ftype  # filter type of the final field ("pk" for a bare related filter)
        self.field = None
        self.lookup = lookup
        self.choices = choices
        self.pk_endpoint = pk_endpoint


def parse_filter(schema: dict, endpoint: str, name: str) -> ParsedFilter:
    """Resolve a query parameter name against the filter sets, or raise KeyError."""
    parts = name.split("__")
    hops = []
    current = endpoint
    i = 0
    while i < len(parts):
        filters = schema[current]["filters"]
        head = parts[i]
        if head not in filters:
            raise KeyError(name)
        spec = filters[head]
        rest = parts[i + 1:]
        if spec[0] == "RelatedFilter":
            target = FILTERSET_ENDPOINTS.get(spec[1])
            hops.append(head)
            if not rest:
                parsed = ParsedFilter(name, hops, "pk", "exact", pk_endpoint=target)
                return parsed
            if target is None or target not in schema:
                # a filter set this server does not describe: valid name, not served
                parsed = ParsedFilter(name, hops, "unserved", "exact")
                return parsed
            current = target
            i += 1
            continue
        lookups = spec[1]
        if not rest:
            lookup = "exact"
        elif len(rest) == 1 and rest[0] in lookups and rest[0] != "exact":
            lookup = rest[0]
        else:
            raise KeyError(name)
        parsed = ParsedFilter(name, hops, spec[0], lookup, choices=spec[2] if len(spec) > 2 else None)
        parsed.field = head
        return parsed
    raise KeyError(name)


# --- the server ------------------------------------------------------------------

class CourtListenerServer(ServerLifecycle):
    """A local CourtListener API v4 + storage, for tests and benchmarks.

    ``cases``: a list of ``cases.Case`` (or one). ``throttle_every``: every
    k-th authenticated API request is answered 429 (0 = never).
    ``rate_per_minute``: also answer 429 past this many API requests in any
    60 seconds (None = no cap). ``page_size_max``: the largest ``page_size``
    honoured. ``storage_dir``: serve also any file under this folder.

    ``tamper``: endpoint -> function(results) -> results, applied to each list
    page served (a test's way to serve a record of an unexpected shape).
    """

    def __init__(self, cases, token: str = "test-token", throttle_every: int = 0, retry_after: int = 1,
                 page_size_max: int = 100, storage_dir=None, rate_per_minute: Optional[int] = None,
                 host: str = "127.0.0.1", port: int = 0, storage_host: Optional[str] = None,
                 storage_port: int = 0, options_path: Optional[Path] = None, default_page_size: int = 20):
        if isinstance(cases, Case):
            cases = [cases]
        self.cases = list(cases)
        self.token = token
        self.throttle_every = throttle_every
        self.retry_after = retry_after
        self.page_size_max = page_size_max
        self.default_page_size = default_page_size
        self.storage_dir = Path(storage_dir) if storage_dir else None
        self.rate_per_minute = rate_per_minute
        self.schema = load_schema(options_path)
        self.log = RequestLog()
        self.failures = Failures()
        self._lock = threading.Lock()
        self._index = None
        self._index_key = None
        self._api_count = 0
        self._just_throttled = False
        self._recent = []  # times of served API requests, for rate_per_minute
        self.tamper: dict = {}  # endpoint -> function(results) -> results
        self._api = LocalServer(self._answer_api, lambda r: "api", self.log, host, port)
        self._storage = LocalServer(self._answer_storage, lambda r: "storage", self.log,
                                    storage_host or host, storage_port)
        Index(self.cases)  # fail early on duplicate ids

    def _parts(self) -> list:
        return [self._api, self._storage]

    @property
    def api_url(self) -> str:
        return self._api.base + API_PREFIX.lstrip("/")

    @property
    def storage_url(self) -> str:
        return self._storage.base

    def add_case(self, case: Case) -> None:
        with self._lock:
            self.cases.append(case)

    def settings(self) -> dict:
        """The scrapy settings that point a crawl here."""
        return {"COURTLISTENER_API_URL": self.api_url, "COURTLISTENER_STORAGE_URL": self.storage_url}

    def scrapy_args(self) -> list:
        """``["-s", "COURTLISTENER_API_URL=...", "-s", ...]`` for a ``scrapy crawl`` command line."""
        return [arg for name, value in self.settings().items() for arg in ("-s", "%s=%s" % (name, value))]

    def env(self) -> dict:
        """The environment a crawl needs (the token is never a setting)."""
        return {"COURTLISTENER_TOKEN": self.token}

    # -- data --
    def index(self) -> Index:
        with self._lock:
            key = tuple((id(c), c.version) for c in self.cases)
            if key != self._index_key:
                self._index = Index(self.cases)
                self._index_key = key
            return self._index

    def _render(self, data, status=200, headers=None) -> Response:
        body = json.dumps(data).replace(API, self.api_url)
        return Response(status, body.encode("utf-8"), headers)

    # -- API --
    def _answer_api(self, request: Request) -> Response:
        failed = self.failures.take(request.raw_path)
        if failed:
            status, headers = failed
            if status == 429:
                return Response.json({"detail": "Request was throttled. Expected available in %d second%s." % (
                    self.retry_after, "" if self.retry_after == 1 else "s")}, 429, headers)
            return Response.text("<h1>Server Error (%d)</h1>" % status, status, headers=headers)
        if not request.path.startswith(API_PREFIX):
            return Response.json({"detail": "Not found."}, 404)

        auth = self._authenticate(request)
        if auth is not None:
            return auth
        throttled = self._throttle()
        if throttled is not None:
            return throttled
        if request.method not in ("GET", "HEAD"):
            return Response.json({"detail": 'Method "%s" not allowed.' % request.method}, 405)

        rest = request.path[len(API_PREFIX):]
        if rest == "search/":
            return self._search(request)
        if rest == "":
            return self._render({name: API + name + "/" for name in SERVED})
        parts = [p for p in rest.split("/") if p]
        endpoint = parts[0]
        if endpoint not in SERVED or len(parts) > 2 or not rest.endswith("/"):
            return Response.json({"detail": "Not found."}, 404)
        try:
            if len(parts) == 2:
                return self._detail(request, endpoint, parts[1])
            return self._list(request, endpoint)
        except BadRequest as exc:
            return Response.json(exc.body, exc.status)
        except NotServed as exc:
            return Response.json({"detail": "The local test server does not implement this filter: %s" % exc}, 501)

    def _authenticate(self, request: Request) -> Optional[Response]:
        header = request.headers.get("Authorization")
        challenge = {"WWW-Authenticate": 'Token'}
        if not header or header.split()[0].lower() != "token":
            return Response.json({"detail": "Authentication credentials were not provided."}, 401, challenge)
        words = header.split()
        if len(words) == 1:
            return Response.json({"detail": "Invalid token header. No credentials provided."}, 401, challenge)
        if len(words) > 2:
            return Response.json({"detail": "Invalid token header. Token string should not contain spaces."},
                                 401, challenge)
        if words[1] != self.token:
            return Response.json({"detail": "Invalid token."}, 401, challenge)
        return None

    def _throttle(self) -> Optional[Response]:
        with self._lock:
            now = time.monotonic()
            wait = 0
            self._api_count += 1
            if self.throttle_every and not self._just_throttled and self._api_count % self.throttle_every == 0:
                wait = self.retry_after
            if not wait and self.rate_per_minute:
                self._recent = [t for t in self._recent if now - t < 60]
                if len(self._recent) >= self.rate_per_minute:
                    wait = max(1, math.ceil(60 - (now - self._recent[0])))
            if wait:
                self._just_throttled = True
                return Response.json(
                    {"detail": "Request was throttled. Expected available in %d second%s." % (
                        wait, "" if wait == 1 else "s")}, 429, {"Retry-After": str(wait)})
            self._just_throttled = False
            self._recent.append(now)
            return None

    def _search(self, request: Request) -> Response:
        """``search/?type=d&q=...&court=...&filed_after=...``: the v4 search API as
        far as following an appeal needs it. A docket matches when one of the
        query's terms (``"a" OR "b"``, quotes aside) is in its number, its name
        or its originating court's docket number (``original_court_info``,
        which the real index holds as the docket's text); results are
        CourtListener's search fields."""
        query = request.query
        kind = query.get("type", "o")
        if kind not in ("d", "r"):
            raise_type = {"detail": "This local server searches dockets only (type=d or r)."}
            return Response.json(raise_type, 400)
        terms = [t.strip().strip('"').lower() for t in (query.get("q") or "").split(" OR ")]
        terms = [t for t in terms if t]
        courts = set((query.get("court") or "").split())
        after = query.get("filed_after")
        results = []
        for docket in self.index().objects["dockets"]:
            if courts and docket["court_id"] not in courts:
                continue
            if after and (not docket.get("date_filed") or docket["date_filed"] < after):
                continue
            origin = docket.get("original_court_info") or {}
            origin_number = origin.get("docket_number") if isinstance(origin, dict) else ""
            text = " ".join(str(x or "") for x in (docket.get("docket_number"),
                                                   docket.get("case_name"), origin_number)).lower()
            if terms and not any(t in text for t in terms):
                continue
            results.append({"docket_id": docket["id"], "docketNumber": docket["docket_number"],
                            "court_id": docket["court_id"], "caseName": docket["case_name"],
                            "dateFiled": docket.get("date_filed"),
                            "pacer_case_id": docket.get("pacer_case_id"),
                            "docket_absolute_url": docket.get("absolute_url")})
        results.sort(key=lambda r: r.get("dateFiled") or "", reverse=True)
        return self._render({"count": len(results), "next": None, "previous": None,
                             "results": results[:20]})

    def _detail(self, request: Request, endpoint: str, ident: str) -> Response:
        index = self.index()
        key = ident if endpoint == "courts" else (int(ident) if ident.isdigit() else None)
        obj = index.by_id[endpoint].get(key)
        if obj is None:
            return Response.json({"detail": "No %s matches the given query." % endpoint_model(endpoint)}, 404)
        fields, omit = _field_sets(request.query)
        return self._render(shape(obj, fields, omit))

    def _list(self, request: Request, endpoint: str) -> Response:
        index = self.index()
        query = request.query
        filters = []
        unknown = []
        for name, value in request.query_items:
            if name in GENERIC_PARAMS:
                continue
            try:
                parsed = parse_filter(self.schema, endpoint, name)
            except KeyError:
                unknown.append(name)
                continue
            filters.append((parsed, value))
        if unknown:
            valid = sorted(self.schema[endpoint]["filters"])
            raise BadRequest({
                "detail": "Invalid filter parameter(s) for %s/: %s. Filters allowed here: %s (with __<lookup> "
                          "for the lookups each allows, and __ to follow related filters); other parameters: %s."
                          % (endpoint, ", ".join(sorted(set(unknown))), ", ".join(valid),
                             ", ".join(sorted(GENERIC_PARAMS))),
                "invalid_filters": sorted(set(unknown)),
            })
        objects = index.objects[endpoint]
        nested_docket = None
        for parsed, value in filters:
            if value == "":
                continue  # django-filter ignores empty values
            if parsed.name == "filter_nested_results":
                continue
            if parsed.ftype == "pk" and parsed.pk_endpoint in ("dockets", "docket-entries", "recap-documents",
                                                                "parties", "attorneys"):
                # django-filter's ModelChoiceFilter: the object must exist
                wanted = value.strip()
                if not wanted.isdigit() or int(wanted) not in index.by_id[parsed.pk_endpoint]:
                    raise BadRequest({parsed.name: [
                        "Select a valid choice. That choice is not one of the available choices."]})
            objects = [o for o in objects if self._matches(index, endpoint, o, parsed, value)]
            if endpoint in ("parties", "attorneys") and parsed.hops == ["docket"] and parsed.ftype == "pk":
                nested_docket = value.strip()
        nested = query.get("filter_nested_results", "").lower() in ("true", "1", "on", "yes")

        count_only = query.get("count") == "on"
        if count_only:
            return self._render({"count": len(objects)})

        ordering = query.get("order_by", DEFAULT_ORDERING)
        page_size = self._page_size(query)
        fields, omit = _field_sets(query)
        url = request.url
        if ordering in CURSOR_ORDERINGS or (ordering.startswith("-") and ordering[1:] in CURSOR_ORDERINGS):
            page, nxt, prev = self._cursor_page(objects, ordering, page_size, query.get("cursor"), url)
            envelope = {"count": replace_query_param(url, "count", "on"), "next": nxt, "previous": prev}
        else:
            page, nxt, prev, total = self._number_page(endpoint, objects, ordering, page_size, query.get("page"), url)
            envelope = {"count": total, "next": nxt, "previous": prev}
        results = []
        for obj in page:
            if nested and nested_docket is not None:
                obj = _nested_for_docket(endpoint, obj, nested_docket)
            results.append(shape(obj, fields, omit))
        if endpoint in self.tamper:
            results = self.tamper[endpoint](results)
        envelope["results"] = results
        return self._render(envelope)

    def _page_size(self, query) -> int:
        raw = query.get("page_size")
        if raw:
            try:
                size = int(raw)
                if size > 0:
                    return min(size, self.page_size_max)
            except ValueError:
                pass
        return self.default_page_size

    def _matches(self, index: Index, endpoint: str, obj: dict, parsed: ParsedFilter, raw: str) -> bool:
        if parsed.ftype == "unserved":
            raise NotServed(parsed.name)
        candidates = [(endpoint, obj)]
        for hop in parsed.hops:
            following = []
            for ep, o in candidates:
                target, related = index.related(ep, o, hop)
                following.extend((target, r) for r in related)
            candidates = following
        if parsed.ftype == "pk":
            wanted = raw.strip()
            return any(str(o["id"]) == wanted for _, o in candidates)
        wanted = _coerce(parsed.ftype, parsed.lookup, raw, parsed.name, parsed.choices)
        for _, o in candidates:
            actual = _field_value(parsed.ftype, o.get(parsed.field))
            if _compare(parsed.ftype, parsed.lookup, actual, wanted):
                return True
        return False

    def _cursor_page(self, objects, ordering, page_size, cursor, url):
        field = ordering.lstrip("-")
        descending = ordering.startswith("-")
        parse = (lambda v: int(v)) if field == "id" else (lambda v: parse_datetime(str(v)))

        def key(o):
            return (parse(o[field]), o["id"])

        ordered = sorted(objects, key=key, reverse=descending)

        def after(k, position):  # k comes after position in this ordering
            return k < position if descending else k > position

        reverse = False
        if cursor:
            value, ident, reverse = decode_cursor(cursor)
            try:
                position = (parse(value), ident)
            except (ValueError, TypeError):
                raise BadRequest({"detail": "Invalid cursor"}, 404)
            if reverse:
                before = [o for o in ordered if after(position, key(o))]
                page = before[-page_size:]
                has_prev = len(before) > page_size
                has_next = True
            else:
                rest = [o for o in ordered if after(key(o), position)]
                page = rest[:page_size]
                has_next = len(rest) > page_size
                has_prev = len(rest) < len(ordered)
        else:
            page = ordered[:page_size]
            has_next = len(ordered) > page_size
            has_prev = False

        def link(o, rev):
            return replace_query_param(url, "cursor", encode_cursor("%s|%d" % (o[field], o["id"]), rev))

        nxt = link(page[-1], False) if page and has_next else None
        prev = link(page[0], True) if page and has_prev else None
        return page, nxt, prev

    def _number_page(self, endpoint, objects, ordering, page_size, page_raw, url):
        allowed = set(self.schema[endpoint]["ordering"])
        fields = [f.strip() for f in ordering.split(",") if f.strip().lstrip("-") in allowed]
        ordered = sorted(objects, key=lambda o: o["id"], reverse=True)  # the default, -id
        if fields:
            ordered = sorted(objects, key=lambda o: o["id"])
            for f in reversed(fields):
                name = f.lstrip("-")
                desc = f.startswith("-")
                present = [o for o in ordered if o.get(name) is not None]
                missing = [o for o in ordered if o.get(name) is None]
                present.sort(key=lambda o: _sortable(o[name]), reverse=desc)
                # Postgres: NULLs last ascending, first descending
                ordered = (missing + present) if desc else (present + missing)
        try:
            number = int(page_raw or 1)
        except ValueError:
            raise BadRequest({"detail": "Invalid page: That page number is not an integer"}, 404)
        if number > MAX_PAGINATION_DEPTH:
            raise BadRequest({"detail": "Invalid page: Deep API pagination is not allowed. "
                                        "Please review API documentation."}, 404)
        pages = max(1, math.ceil(len(ordered) / page_size))
        if number < 1 or number > pages:
            raise BadRequest({"detail": "Invalid page."}, 404)
        page = ordered[(number - 1) * page_size:number * page_size]
        nxt = replace_query_param(url, "page", number + 1) if number < pages else None
        if number <= 1:
            prev = None
        elif number == 2:
            prev = replace_query_param(url, "page", None)
        else:
            prev = replace_query_param(url, "page", number - 1)
        return page, nxt, prev, len(ordered)

    # -- storage --
    def _answer_storage(self, request: Request) -> Response:
        refused = self.failures.answer_read_only(request)
        if refused:
            return refused
        name = unquote(request.path.lstrip("/"))
        pdf = self.index().files.get(name)
        data = None
        if pdf is not None:
            data = pdf.read()
            sha1 = pdf.sha1
        elif self.storage_dir is not None and ".." not in Path(name).parts:
            path = self.storage_dir / name
            if path.is_file():
                data = path.read_bytes()
                sha1 = hashlib.sha1(data).hexdigest()
        if data is None:
            return Response(404, b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>NoSuchKey</Code>"
                                 b"<Message>The specified key does not exist.</Message></Error>",
                            content_type="application/xml")
        etag = '"%s"' % sha1
        headers = {"ETag": etag, "Last-Modified": "Wed, 23 Sep 2020 17:12:40 GMT", "Accept-Ranges": "bytes"}
        if request.headers.get("If-None-Match") == etag:
            return Response(304, b"", headers, content_type=None)
        return self.failures.damage(request, Response(200, data, headers, content_type="application/pdf"))


def endpoint_model(endpoint: str) -> str:
    return {"dockets": "Docket", "docket-entries": "DocketEntry", "recap-documents": "RECAPDocument",
            "parties": "Party", "attorneys": "Attorney", "courts": "Court"}[endpoint]


def _sortable(value):
    if isinstance(value, (int, float)):
        return (0, value, "")
    return (1, 0, str(value))


def _field_sets(query):
    def tree(raw):
        if not raw:
            return None
        out = {}
        for item in raw.split(","):
            item = item.strip()
            if not item:
                continue
            node = out
            parts = item.split("__")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
                if node is None:
                    break
            else:
                if parts[-1] not in node:
                    node[parts[-1]] = None
        return out

    return tree(query.get("fields")), tree(query.get("omit"))


def shape(obj, fields, omit):
    """Apply ``fields=a,b__c`` and ``omit=a,b__c`` (``__`` reaches into nested objects)."""
    if isinstance(obj, list):
        return [shape(o, fields, omit) for o in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        if fields is not None and key not in fields:
            continue
        sub_fields = fields.get(key) if fields is not None else None
        if omit is not None and key in omit and omit[key] is None:
            continue
        sub_omit = omit.get(key) if omit is not None else None
        if sub_fields is not None or sub_omit is not None:
            value = shape(value, sub_fields, sub_omit)
        out[key] = value
    return out


def _nested_for_docket(endpoint: str, obj: dict, docket_id: str) -> dict:
    """``filter_nested_results=True``: nested roles only for the docket asked about."""
    obj = dict(obj)
    if endpoint == "parties":
        obj["attorneys"] = [a for a in obj["attorneys"] if str(a["docket_id"]) == docket_id]
        obj["party_types"] = [t for t in obj["party_types"] if str(t["docket_id"]) == docket_id]
    elif endpoint == "attorneys":
        suffix = "/dockets/%s/" % docket_id
        obj["parties_represented"] = [p for p in obj["parties_represented"] if p["docket"].endswith(suffix)]
    return obj
