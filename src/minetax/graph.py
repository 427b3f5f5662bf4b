"""The model graph: the header of every SQL file in sql/, and the one runner that orders and runs a stage's files.

Every file under sql/ (except sql/export and sql/examples, which are queries for people) starts with a header,
one `-- key: value` line per key, in this order of keys, before its free description lines:

    -- model: model.farm_month
    -- grain: scenario × farm × calendar month
    -- units: energy kWh; cost KZT; hashrate TH/s; coins BTC; value USD, KZT
    -- reads: window_readings, core.farms, core.farm_hashrate, core.network_daily, core.fx, price_path
    -- recompute: by month ($m_from..$m_to)
    -- params: $run_id, $scenario_id, $m_from, $m_to
    -- also: energy_agg, farm_day, farm_day_model, readings_total
    -- (free description lines follow)

Required: `model` (the relation the file makes: schema.name for a warehouse table or view, a bare name for a temp
relation; a note in parentheses may follow, e.g. `(temp view)`), `grain`, `units`, `reads` (every table, view or
temp relation the file reads, comma-separated, or `none`; `name (previous)` marks a relation read as an
earlier step left it, which sets no order), `recompute` (one of RECOMPUTE, optionally followed by
detail) and `params` (every $parameter the file uses, or `none`). Optional: `also` (other relations the file makes,
e.g. temp tables a later file reads), `updates` (relations another file makes that this one changes), `variant of`
(another file that makes the same model; the caller picks one, the runner never runs a variant). A value too long
for one line continues on the next lines, each starting `--` and at least three spaces.

Parameters are bound (DuckDB prepared parameters), only those each statement uses. A parameter declared
`$name (literal)` is written into the statement text instead, as a SQL literal (a string, or a list of strings,
quoted by db.literal): for statements DuckDB cannot prepare, such as CREATE VIEW over a list of Parquet files.
That is the one way text is put into SQL; there are no other placeholders.

Order: a file that reads a relation runs after the files of its stage that make it (`model`, `also`) and after
those that update it (`updates`); an updater runs after the maker. Ties are broken by path (keeping files of one
scheme together where the graph allows), so the order is deterministic. `run(con, stage, params, each=[...])`
runs a stage: a file that declares a parameter carried by the items of `each` (and not by `params`), e.g.
$scheme_id, or whose recompute is `per scheme`, runs once per item; consecutive such files form a phase run item
by item (the scheme loop), and the others run once. A temp relation that a per-item file replaces whole (CREATE
OR REPLACE TEMP ...) holds only the last item's rows, so it may only be read in the same phase.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from minetax import db
from minetax.config import SQL_DIR
from minetax.errors import MinetaxError

REQUIRED = ("model", "grain", "units", "reads", "recompute", "params")
OPTIONAL = ("also", "updates", "variant of")
RECOMPUTE = ("whole", "by month", "by tax period", "per scheme", "per file staged", "per run", "per query",
             "per comparison", "per publish", "per forecast run", "per map task")
UNHEADED = ("export", "examples")  # queries for people: a plain comment is enough
STAGES = ("schema", "staging", "core", "map", "model", "tax", "checks", "publish", "forecast")  # the data flow's order

# Relations made outside sql/ (by Python, before the files that read them run), and who makes them.
INPUTS = {
    "price_path": "minetax.model.assumptions (the scenario's BTC price multiplier by date)",
    "share_assumed": "minetax.model.assumptions (the scenario's hashrate share assumption by date)",
    "src_collections": "minetax.load.staging (the file as received)",
    "src_country_share": "minetax.load.staging (the file as received)",
    "src_energy_readings": "minetax.load.staging (the file as received)",
    "src_farm_hashrate": "minetax.load.staging (the file as received)",
    "src_farms": "minetax.load.staging (the file as received)",
    "src_fleet_efficiency": "minetax.load.staging (the file as received)",
    "src_fx": "minetax.load.staging (the file as received)",
    "src_network_daily": "minetax.load.staging (the file as received)",
    "reading_spans": "minetax.load.reading_order (per farm, the staged file's time span)",
    "readings_flags_raw": "minetax.load.reading_order (flagged rows of the staged readings file)",
    "pub": "minetax.publish.snapshot (the new snapshot, attached)",
    "partition_source": "minetax.load.partitions (a view over the validated readings file being written)",
    "bucket_farms": "minetax.load.partitions (the farms of the bucket being written, from farm_buckets)",
    "bucket_source": "minetax.load.partitions (the readings of the bucket being written: partition_source, "
                     "joined to bucket_farms when there are several buckets)",
    "readings_registered": "minetax.load.partitions (the listed partition files of an object store, as Arrow)",
    "task_readings": "minetax.model.partials (a map task's partition files, on the worker)",
    "task_replaced": "minetax.model.partials (the keys later files replaced in a map task's partitions)",
    "map_partials": "minetax.model.partials (the partials of the map tasks of the run's months)",
    "map_partial_hours": "minetax.model.partials (the hours partials of the map tasks of the run's months)",
    "forecast_by_year_in": "minetax.forecast (the forecast's yearly summaries, a registered frame)",
    "forecast_windows_in": "minetax.forecast (the forecast's budget windows, a registered frame)",
}
_KEY = re.compile(r"^--\s?([a-z ]+):\s*(.*)$")
_MORE = re.compile(r"^--\s{3,}(\S.*)$")
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)\b")
_TABLE = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|SEQUENCE|MACRO)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                    r"([a-z_]+\.[a-z_]+)", re.IGNORECASE)


class GraphError(MinetaxError):
    """A header is missing or wrong, a relation is read that nothing makes, or the graph has a cycle."""


@dataclass(frozen=True)
class Model:
    path: str  # relative to sql/, e.g. "model/farm_month.sql"
    name: str
    kind: str
    grain: str
    units: str
    reads: tuple[str, ...]
    recompute: str
    params: tuple[str, ...]
    literal: frozenset[str]
    previous: frozenset[str] = frozenset()
    also: tuple[str, ...] = ()
    updates: tuple[str, ...] = ()
    variant_of: str | None = None

    @property
    def stage(self) -> str:
        return self.path.split("/")[0] if "/" in self.path else self.path.removesuffix(".sql")

    @property
    def makes(self) -> tuple[str, ...]:
        return (self.name, *self.also)


def _names(value: str) -> tuple[str, ...]:
    """The relation names of a list, notes in parentheses left out."""
    return tuple(name for name, _ in _entries(value))


def _entries(value: str) -> list[tuple[str, str]]:
    """(name, note) for each comma-separated entry `name` or `name (note)`; none for `none`."""
    if value.strip() in ("", "none", "(none)"):
        return []
    parts = re.findall(r"([^,(]+?)\s*(?:\(([^)]*)\))?\s*(?:,|$)", value)
    return [(name.strip(), note.strip()) for name, note in parts if name.strip()]


def header_fields(text: str) -> dict[str, str]:
    """The `-- key: value` lines at the top of a file (continuation lines joined), in file order."""
    fields: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        key, more = _KEY.match(line), _MORE.match(line)
        if key and key.group(1) in (*REQUIRED, *OPTIONAL):
            last = key.group(1)
            fields[last] = key.group(2).strip()
        elif more and last:
            fields[last] += " " + more.group(1).strip()
        else:
            break
    return fields


def parse(path: str, text: str) -> Model:
    """The header of sql/<path>; GraphError naming the file and the key when it is missing or malformed."""
    fields = header_fields(text)
    missing = [k for k in REQUIRED if not fields.get(k)]
    if missing:
        raise GraphError(f"sql/{path}: header lacks {', '.join(missing)} (see minetax.graph for the format)")
    if not fields["recompute"].startswith(RECOMPUTE):
        raise GraphError(f"sql/{path}: recompute {fields['recompute']!r} is none of {', '.join(RECOMPUTE)}")
    params = fields["params"]
    name, _, kind = fields["model"].partition(" ")
    return Model(path=path, name=name, kind=kind.strip(" ()"), grain=fields["grain"], units=fields["units"],
                 reads=_names(fields["reads"]), recompute=fields["recompute"],
                 params=tuple(dict.fromkeys(_PARAM.findall(params))),
                 literal=frozenset(re.findall(r"\$([a-z_][a-z0-9_]*)\s*\(literal", params)),
                 previous=frozenset(n for n, note in _entries(fields["reads"]) if note.startswith("previous")),
                 also=_names(fields.get("also", "")), updates=_names(fields.get("updates", "")),
                 variant_of=fields.get("variant of") or None)


def sql_files(root: Path = SQL_DIR) -> list[str]:
    """Every headed SQL file, relative to sql/, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.sql")
                  if p.relative_to(root).parts[0] not in UNHEADED)


@cache
def _parsed() -> tuple[dict[str, Model], dict[str, str]]:
    found, broken = {}, {}
    for path in sql_files():
        try:
            found[path] = parse(path, db.sql_text(path))
        except GraphError as e:
            broken[path] = str(e)
    return found, broken


def models() -> dict[str, Model]:
    """Every well-headed file's header, by path (parsed once per process); problems() lists the others."""
    return _parsed()[0]


def model(path: str) -> Model:
    """The header of sql/<path>; GraphError if it has none or a malformed one."""
    found, broken = _parsed()
    if path not in found:
        raise GraphError(broken.get(path) or f"sql/{path}: no such headed SQL file")
    return found[path]


def body_params(path: str) -> set[str]:
    """The $parameters the statements of sql/<path> use (comments left out)."""
    return {p for stmt in db.statements(db.sql_text(path)) for p in _PARAM.findall(stmt)}


def schema_tables() -> set[str]:
    """Tables, sequences and views that sql/schema.sql creates."""
    return {m.lower() for m in _TABLE.findall("\n".join(db.statements(db.sql_text("schema.sql"))))}


def known_relations() -> set[str]:
    """Everything a file may read: schema tables, what some file makes, and the documented inputs."""
    made = {n for m in models().values() for n in m.makes}
    return schema_tables() | made | set(INPUTS)


def problems() -> list[str]:
    """What is wrong with the graph as a whole: unknown reads, undeclared or unused parameters, a model made by two
    files that are not variants, a cycle in any stage. Empty when all is well."""
    found = list(_parsed()[1].values())
    known = known_relations()
    makers: dict[str, list[str]] = {}
    shared = schema_tables() | set(INPUTS)  # made elsewhere, filled by several files
    for m in models().values():
        found += [f"sql/{m.path}: reads {r}, which nothing makes" for r in m.reads if r not in known]
        try:
            used = body_params(m.path)
        except duckdb.Error as e:
            found.append(f"sql/{m.path}: cannot be parsed: {str(e).splitlines()[0]}")
            continue
        if used != set(m.params):
            found.append(f"sql/{m.path}: params declares {sorted(m.params)}, the statements use {sorted(used)}")
        if m.variant_of is None:
            for n in set(m.makes) - shared:
                makers.setdefault(n, []).append(m.path)
    found += [f"{n} is made by {' and '.join(paths)}" for n, paths in makers.items() if len(paths) > 1]
    for stage in sorted({m.stage for m in models().values()}):
        try:
            order(stage)
        except GraphError as e:
            found.append(str(e))
    return found


def _edges(files: Sequence[Model]) -> dict[str, set[str]]:
    """For each file, the files of `files` it must run after."""
    after: dict[str, set[str]] = {m.path: set() for m in files}
    for m in files:
        for other in files:
            if other is m:
                continue
            if any(r in other.makes or (r in other.updates and r not in m.updates) for r in m.reads
                   if r not in m.previous) \
                    or any(u in other.makes for u in m.updates):
                after[m.path].add(other.path)
    return after


def _upstream(files: Sequence[Model], targets: Iterable[str]) -> list[Model]:
    """The files that make `targets` and every file of `files` they need, transitively."""
    by_path = {m.path: m for m in files}
    after = _edges(files)
    todo = [m.path for m in files if set(m.makes) & set(targets)]
    missing = set(targets) - {n for m in files for n in m.makes}
    if missing:
        raise GraphError(f"no file makes {', '.join(sorted(missing))}")
    keep: set[str] = set()
    while todo:
        path = todo.pop()
        if path not in keep:
            keep.add(path)
            todo += after[path]
    return [by_path[p] for p in sorted(keep)]


def per_item_file(m: Model, item_keys: set[str]) -> bool:
    """Whether the file runs once per item of `each`: it uses an item's parameter, or says `recompute: per scheme`."""
    return bool(item_keys) and (bool(set(m.params) & item_keys) or m.recompute.startswith("per scheme"))


def order(stage: str, targets: Iterable[str] | None = None, per_item: Iterable[str] = ()) -> list[Model]:
    """The files of `stage` (variants left out; with `targets`, only those needed to make them) in run order.
    Files that declare a parameter of `per_item` are kept together where the graph allows (fewer phases)."""
    files = [m for m in models().values() if m.stage == stage and m.variant_of is None]
    if targets is not None:
        files = _upstream(files, targets)
    return sort(files, set(per_item), f"stage {stage}")


def sort(files: Sequence[Model], per_item: Iterable[str] = (), label: str = "files") -> list[Model]:
    """`files` in an order that respects _edges (Kahn's algorithm; ties by path, per-item files kept together);
    GraphError on a cycle."""
    after, item_keys = _edges(files), set(per_item)
    done: list[Model] = []
    pending = sorted(files, key=lambda m: m.path)
    while pending:
        ready = [m for m in pending if after[m.path] <= {d.path for d in done}]
        if not ready:
            raise GraphError(f"{label}: cycle among {', '.join('sql/' + m.path for m in pending)}")
        last = bool(done) and per_item_file(done[-1], item_keys)
        pick = next((m for m in ready if per_item_file(m, item_keys) == last), ready[0])
        done.append(pick)
        pending.remove(pick)
    return done


def _remade(m: Model, name: str) -> bool:
    """The file replaces temp relation `name` whole each time it runs (so it holds only the last item's rows)."""
    return re.search(rf"CREATE\s+OR\s+REPLACE\s+TEMP(?:ORARY)?\s+(?:TABLE|VIEW)\s+{re.escape(name)}\b",
                     db.sql_text(m.path), re.IGNORECASE) is not None


def phases(files: Sequence[Model], item_keys: set[str]) -> list[tuple[bool, list[Model]]]:
    """Consecutive files grouped as (per item?, files); a temp relation made per item must be read in its phase."""
    groups: list[tuple[bool, list[Model]]] = []
    for m in files:
        per = per_item_file(m, item_keys)
        if groups and groups[-1][0] == per:
            groups[-1][1].append(m)
        else:
            groups.append((per, [m]))
    for i, (per, group) in enumerate(groups):
        temps = {n for m in group for n in m.makes if per and _remade(m, n)}
        for later in (m for _, g in groups[i + 1:] for m in g):
            if temps & set(later.reads):
                raise GraphError(f"sql/{later.path} reads {', '.join(sorted(temps & set(later.reads)))}, made "
                                 "once per item in an earlier phase: only the last item's would be left")
    return groups


def _literal(name: str, value: object) -> str:
    if isinstance(value, (str, Path)):
        return db.literal(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, Path)) for v in value):
        return "[" + ", ".join(db.literal(v) for v in value) + "]"
    raise GraphError(f"literal parameter ${name} must be a string or a list of strings, not {type(value).__name__}")


def _writer(name: str, given: Mapping[str, object]) -> Callable[[re.Match[str]], str]:
    """The replacement of $name in a statement: its value as a SQL literal (checked only where a statement uses it)."""
    return lambda _m: _literal(name, given[name])


def prepared(path: str, params: Mapping | None = None) -> list[tuple[str, dict | None]]:
    """The statements of sql/<path> with the parameters its header declares, each as (text, bound parameters): each
    parameter must be given; literal ones are written into the text, the others bound where a statement uses them."""
    header = model(path)
    given = dict(params or {})
    missing = [p for p in header.params if p not in given]
    if missing:
        raise GraphError(f"sql/{path} needs {', '.join('$' + p for p in missing)}")
    bound = {k: given[k] for k in header.params if k not in header.literal}
    out = []
    for stmt in db.statements(db.sql_text(path)):
        for name in header.literal:
            stmt = re.sub(rf"\${name}\b", _writer(name, given), stmt)
        out.append((stmt, db.bound(stmt, bound)))
    return out


def run_file(con: duckdb.DuckDBPyConnection, path: str, params: Mapping | None = None) -> list[tuple]:
    """Run sql/<path> (see prepared); returns the last statement's rows."""
    rows: list[tuple] = []
    for stmt, bound in prepared(path, params):
        rows = con.execute(stmt, bound).fetchall()
    return rows


def run(con: duckdb.DuckDBPyConnection, stage: str, params: Mapping, each: Sequence[Mapping] = (),
        targets: Iterable[str] | None = None) -> list[str]:
    """Run the files of `stage` (those needed for `targets`, if given) in graph order; files that use a parameter
    of the items of `each` run once per item with {**params, **item}. Returns the paths in the order run."""
    item_keys = {k for item in each for k in item} - set(params)
    ran = []
    for per, group in phases(order(stage, targets, item_keys), item_keys):
        for item in each if per else [{}]:
            for m in group:
                run_file(con, m.path, {**params, **item})
                ran.append(m.path)
    return ran


def describe(stage: str | None = None) -> list[dict[str, str]]:
    """The graph as rows (stage, file, model, reads, recompute), stage by stage in run order."""
    known = {m.stage for m in models().values()}
    stages = [stage] if stage else [s for s in STAGES if s in known] + sorted(known - set(STAGES))
    rows = []
    for s in stages:
        listed = order(s) + sorted((m for m in models().values() if m.stage == s and m.variant_of),
                                   key=lambda m: m.path)
        rows += [{"stage": s, "file": f"sql/{m.path}", "model": m.name + (f" ({m.kind})" if m.kind else ""),
                  "reads": ", ".join(m.reads) or "none", "recompute": m.recompute} for m in listed]
    return rows


def markdown(rows: Sequence[Mapping[str, str]]) -> str:
    """A Markdown table of describe()'s rows."""
    cols = ["stage", "file", "model", "reads", "recompute"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"
