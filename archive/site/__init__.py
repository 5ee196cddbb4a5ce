"""The public site: Datasette plugins, one module per concern, with their
templates and the archive's metadata.

- :mod:`archive.site.public`: GET only, errors without paths, the download,
  one client's share of the server, the public copy kept current;
- :mod:`archive.site.limits`: what one query may use;
- :mod:`archive.site.cases`, :mod:`archive.site.search`, :mod:`archive.site.home`,
  :mod:`archive.site.feeds`, :mod:`archive.site.following`: the pages;
- this package: the templates (``templates/``, beside it, which Datasette
  finds because this package is a plugin too) and the metadata (table
  descriptions, facets, canned queries: ``metadata.yml``), given to every
  database served through the ``get_metadata`` hook.

Installed (``pip install docket-archive``), every module of :data:`PLUGINS` is
registered by the package's ``datasette`` entry points, so plain ``datasette
public/dockets.db`` serves the pages. Their settings are Datasette's plugin
configuration (``plugins: docket-archive:`` in metadata.json/yml, ``$env`` for
secrets): ``files`` (the FILES_STORE whose PDFs the pages serve), ``releases``,
``archive`` (the archive whose public copy is served and kept current), the
limits (:data:`archive.site.limits.DEFAULTS`), ``heavy_per_client``,
``client_header``. ``python -m archive serve`` is Datasette with those set from
its options. From a checkout that is not installed, :func:`register` adds them.

A database that is an operator's archive (it has the public log, the PACER
ledger...) is never served: the site serves its public copy
(``docket-archive publish``), which holds what a release holds.
"""
from __future__ import annotations

import functools
import importlib
import os

import yaml
from datasette import hookimpl

PLUGIN = "docket-archive"
PLUGINS = ("archive.site", "archive.site.public", "archive.site.limits", "archive.site.cases",
           "archive.site.feeds", "archive.site.search", "archive.site.home",
           "archive.site.following")
HERE = os.path.dirname(os.path.abspath(__file__))
METADATA = os.path.join(HERE, "metadata.yml")
TEMPLATES = os.path.join(HERE, "templates")
# tables only an operator's archive has: a database holding one is not served
OPERATOR_TABLES = ("public_log", "pacer_charges", "archive_info")


def register(pm=None) -> list[str]:
    """Register the site's plugins that are not registered yet (an installed
    package's entry points register them already); returns those added."""
    if pm is None:
        # not at the top: importing it loads every installed plugin, this package among them
        from datasette.plugins import pm
    added = []
    for name in PLUGINS:
        module = importlib.import_module(name)
        if not pm.is_registered(module):
            pm.register(module, name)
            added.append(name)
    return added


@functools.lru_cache(maxsize=1)
def metadata() -> dict:
    """metadata.yml: title, licence, and the ``dockets`` database's tables and queries."""
    with open(METADATA) as fh:
        return yaml.safe_load(fh)


@hookimpl
def get_metadata(datasette, key, database, table):
    # every served database of the archive's shape gets its descriptions and queries
    served = [name for name, db in datasette.databases.items()
              if not db.is_memory and name != "_internal"]
    merged = dict(metadata())
    block = (merged.get("databases") or {}).get("dockets")
    merged["databases"] = {name: block for name in served} if block else {}
    return merged


@hookimpl
def startup(datasette):
    async def refuse_an_operators_archive():
        for name, db in datasette.databases.items():
            if db.is_memory or name == "_internal":
                continue
            tables = set(await db.table_names())
            found = [t for t in OPERATOR_TABLES if t in tables]
            if found:
                raise RuntimeError(
                    f"{name} is an operator's archive ({', '.join(found)}), not its public "
                    "copy: it holds what must not be published (the PACER ledger, withheld "
                    "text). Serve its public copy: `docket-archive publish --db ARCHIVE` "
                    "writes public/<name>.db beside it (or `docket-archive serve --db "
                    "ARCHIVE` serves it and keeps it current).")

    return refuse_an_operators_archive
