"""The ACMS API's wire format, read into the documented form.

ACMS's JSON API (``<court>-showdocservices.azurewebsites.us/api/``) answers
with its database column names: ``pcx_casenumber``, ``pcx_eventid``,
``acms_pagecount``, entries under ``matchingDocketEntries``, lookups nested
as ``{"pcx_casetype": {"pcx_casetypename": ...}}``. The ACMS web app (and
the samples in ``corpus/pacer/acms``) use camelCase names for the same
fields: ``caseNumber``, ``docketEntryId``, ``pageCount``, ``docketEntries``.
The functions here turn either form into the camelCase one, so the parsers
(:mod:`parsers.acms`, :mod:`parsers.appellate_attachment`) read one shape.
Fields with no known wire name are kept as they come.

:func:`merge_request` goes the other way: the body of ``POST MergePDFFiles``,
which names each document with the wire names.
"""
from __future__ import annotations

from typing import Any

# wire name -> documented name
CASE_FIELDS = {
    "pcx_caseid": "caseId",
    "pcx_casenumber": "caseNumber",
    "pcx_originatingcasenumber": "originatingCaseNumber",
    "pcx_name": "name",
    "acms_caseopened": "caseOpened",
    "acms_anumber": "aNumber",
    "pcx_receiveddate": "receivedDate",
    "acms_decisiondate": "decisionDate",
    "acms_partyattorneylist": "partyAttorneyList",
    "acms_raw_html": "shortCaption",
}
# wire lookup object -> (its name field, documented name)
CASE_LOOKUPS = {
    "pcx_casetype": ("pcx_casetypename", "caseType"),
    "pcx_casesubtype": ("pcx_casesubtypename", "caseSubType"),
    "pcx_casesubsubtype": ("pcx_casesubsubtypename", "caseSubSubType"),
    "acms_DistrictCourt": ("pcx_districtname", "districtCourtName"),
    "acms_feestatusid": ("acms_feestatusname", "feeStatus"),
    "acms_NatureofSuit": ("acms_name", "natureOfSuit"),
}
COURT_FIELDS = {"pcx_name": "name", "acms_abbreviatedname": "abbreviatedName"}
ENTRY_FIELDS = {
    "pcx_enddate": "endDate",
    "pcx_entrynumber": "entryNumber",
    "pcx_eventdescription": "docketEntryText",
    "pcx_eventid": "docketEntryId",
    "createdon": "createdOn",
}
DOCUMENT_FIELDS = {
    "acms_docketdocumentdetailsid": "docketDocumentDetailsId",
    "acms_name": "name",
    "acms_documenturl": "documentUrl",
    "acms_casefilingdocumenturl": "caseFilingDocumentUrl",
    "acms_documentpermission": "documentPermission",
    "acms_pagecount": "pageCount",
    "acms_filesize": "fileSize",
    "createdon": "createdOn",
    "billablepages": "billablePages",
    "acms_documentnumber": "documentNumber",
}


def _renamed(data: dict, names: dict) -> dict:
    out = {}
    for key, value in data.items():
        new = names.get(key, key)
        if new != key and new in data:
            continue  # both forms present: the documented one wins
        out[new] = value
    return out


def case_details(data: Any) -> Any:
    """``GET CaseDetailsByCaseId/{id}``'s answer, documented names."""
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("caseDetails"), dict):  # already wrapped
        data = data["caseDetails"]
    out = _renamed({k: v for k, v in data.items() if k not in CASE_LOOKUPS and k != "pcx_court"},
                   CASE_FIELDS)
    for wire, (field, name) in CASE_LOOKUPS.items():
        value = data.get(wire)
        if name not in out and wire in data:
            out[name] = value.get(field) if isinstance(value, dict) else None
    court = data.get("pcx_court")
    if isinstance(court, dict) and not isinstance(out.get("court"), dict):
        out["court"] = _renamed(court, COURT_FIELDS)
    if "byteCount" in out and isinstance(out["byteCount"], str) and out["byteCount"].isdigit():
        out["byteCount"] = int(out["byteCount"])
    return out


def docket_entry(row: Any) -> Any:
    if not isinstance(row, dict):
        return row
    out = _renamed(row, ENTRY_FIELDS)
    end = out.get("endDate")
    if isinstance(end, str) and len(end) >= 10 and "endDateFormatted" not in out:
        y, m, d = end[:10].split("-") if end[4:5] == "-" else ("", "", "")
        if y:
            out["endDateFormatted"] = f"{m}/{d}/{y}"
    return out


def docket_info(data: Any) -> Any:
    """``POST DocketEntriesByCaseId/{id}``'s answer, documented names."""
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("docketInfo"), dict):
        data = data["docketInfo"]
    out = {k: v for k, v in data.items() if k != "matchingDocketEntries"}
    rows = data.get("docketEntries")
    if rows is None:
        rows = data.get("matchingDocketEntries")
    if isinstance(rows, list):
        rows = [docket_entry(r) for r in rows]
    out["docketEntries"] = rows if rows is not None else []
    count = out.get("byteCount")
    if isinstance(count, str) and count.isdigit():
        out["byteCount"] = int(count)
    return out


def entry_document(doc: Any) -> Any:
    return _renamed(doc, DOCUMENT_FIELDS) if isinstance(doc, dict) else doc


def entry_documents(data: Any) -> list:
    """``POST DocketEntryDocumentsByDocketId/{entry id}``'s answer (a list, or
    an object holding ``docketEntryDocuments``), documented names."""
    if isinstance(data, dict):
        data = data.get("docketEntryDocuments")
    if not isinstance(data, list):
        return []
    return [entry_document(d) for d in data if isinstance(d, dict)]


def merge_request(documents: list, *, header: bool = True, page_numbers: bool = False) -> dict:
    """The body of ``POST MergePDFFiles`` for documents of one entry (documented
    names in, wire names out), as the ACMS app sends it after "Accept Charges"."""
    wire = {v: k for k, v in DOCUMENT_FIELDS.items()}
    items = []
    for doc in documents:
        item = {wire.get(k, k): v for k, v in doc.items()
                if k in wire or k in ("cost", "searchValue", "searchTransaction")}
        items.append(item)
    return {"mergeScope": "External", "pagination": bool(page_numbers), "header": bool(header),
            "docketEntryDocuments": items}
