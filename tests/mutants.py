#!/usr/bin/env python3
"""tests/mutants.py -- the mutant generator and report writer of tests/mutants.sh.

It reads every providers/sqlite/*.c of a source tree (found by glob) and util/notify.c (the
notifier and long-polling loop the SQLite provider compiles in), lexes each as C, and
generates single-site mutants with the operators below, in a deterministic order (file
path, then position in the file, then operator). A mutant's id is file:line:operator, with
"#k" appended for the k-th (k >= 2) mutant of the same operator on the same line.

  cmp-negate      a C comparison negated (== <-> !=, < <-> >=, > <-> <=)
  cmp-bound       a C bound moved by one (< <-> <=, > <-> >=); not for the "<" of
                  "x < 0 ? x : 0" (see zero_clamp: equivalent by construction)
  lit-plus1       an integer literal compared in C, plus one (not the 0 of that clamp)
  lit-minus1      the same, minus one
  sql-cmp-negate  a comparison in an SQL string literal negated (= <-> !=, < <-> >=, ...)
  sql-cmp-bound   an SQL bound moved by one (< <-> <=, > <-> >=)
  sql-lit-plus1   an integer literal compared in SQL, plus one
  sql-lit-minus1  the same, minus one
  sql-where-drop  one conjunct of a WHERE or JOIN ... ON clause removed ("a AND b" -> "b"
                  or "a")
  txn-drop        one statement calling duro__sq_exec/_int/_step/_insert_* replaced by
                  "(void)0;", in a function that opens a transaction (duro__sq_begin_*) or
                  one those call, transitively: code that runs inside the transaction
  errcode-swap    a DURO_E* constant replaced by the next one of lib/duro-common.h
  retry-flip      the retryable argument of duro_error_set (0 <-> 1, true <-> false), or a
                  "retryable = 0/1" assignment, flipped

A survivor whose fingerprint (see fingerprint()) is listed in tests/mutants-equivalent.txt
is reported as "equivalent" and left out of the kill rate.

Scope: by default the mutants of open-time code (OPEN_TIME below: the constructor, the
schema, connection setup, the suites' test hooks) are left out; --scope all keeps them.

Commands (all take --root DIR, the source tree, default: the parent of this file's folder,
and --scope contract|all):
  list [--only ID]... [--sample N --seed S] [--verbose]   print the selected ids
  count                                                  print how many mutants exist
  apply ID --into DIR    write the mutated file of ID into tree DIR (same relative path)
  diff ID                print the unified diff (3 lines of context) of ID
  report RESULTS [--markdown FILE] [--selected N] [--note NAME=VALUE]... [--min-rate P]
                         summarise the result lines "id<TAB>status<TAB>seconds<TAB>detail"
                         (status: killed, survived, stillborn) as a table, the survivors
                         with their diffs; the same as Markdown into FILE; exit 1 when the
                         kill rate is below P percent
Standard library only.
"""
import argparse
import glob
import hashlib
import os
import re
import signal
import sys

OPERATORS = ["cmp-negate", "cmp-bound", "lit-plus1", "lit-minus1",
             "sql-cmp-negate", "sql-cmp-bound", "sql-lit-plus1", "sql-lit-minus1",
             "sql-where-drop", "txn-drop", "errcode-swap", "retry-flip"]

NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
BOUND = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
SQL_NEGATE = {"=": "!=", "==": "!=", "!=": "=", "<>": "=", "<": ">=", ">=": "<",
              ">": "<=", "<=": ">"}
INT_RE = re.compile(r"^(0|[1-9][0-9]*)([uUlL]*)$")
SQL_START_RE = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|REPLACE)\b", re.I)
TXN_BEGIN = {"duro__sq_begin_write", "duro__sq_begin_lock", "duro__sq_begin_read"}
TXN_STEP_RE = re.compile(r"^duro__sq_(exec|int|step|insert_\w+)$")
CONTROL = {"if", "while", "for", "switch"}
# SQL keywords that end a WHERE/ON clause at its own nesting depth.
CLAUSE_END = {"ORDER", "GROUP", "LIMIT", "UNION", "HAVING", "RETURNING", "ON", "DO",
              "WINDOW", "LEFT", "RIGHT", "INNER", "CROSS", "JOIN", "WHERE", "EXCEPT",
              "INTERSECT", "SET", "FROM"}


# Code outside the provider contract: it runs when a store is opened (the constructor, its
# options, the schema's migrations and verification, the pool's and connections' setup),
# or it is SQLite-only public API or a factory hook that only the suites call, never a
# duro_provider_ops call, or an internal wait only the unit tests call (the group-commit
# and checkpointer waits of tests/test-group-commit.c). No conformance case can reach a
# store that failed to open, and these paths have their own tests (tests/test-sqlite.c,
# tests/test-group-commit.c); so by default ("--scope
# contract") their mutants are not generated. "--scope all" generates them too. None: the
# whole file.
OPEN_TIME = {
    "providers/sqlite/schema.c": None,
    "providers/sqlite/provider.c": {"duro_sqlite_options_init", "init_new", "create_store",
                                    "prepare_first", "provider_open", "duro_sqlite_open",
                                    "duro_sqlite_path", "duro_sqlite_corrupt_history",
                                    "duro_sqlite_max_attempt_count",
                                    "duro_sqlite_integrity_check"},
    "providers/sqlite/pool.c": {"duro__sq_pool_init", "start_checkpointer",
                                "duro__sq_wait_queued", "duro__sq_wait_checkpoints"},
    "providers/sqlite/stmt.c": {"duro__sq_conn_open", "duro__sq_conn_setup", "pragma"},
    "util/notify.c": {"duro__notifier_init"},
    "providers/sqlite/hooks.c": {"duro__sq_corrupt_history", "duro__sq_max_attempt_count",
                                 "SQL_CORRUPT", "SQL_CORRUPT_INSERT", "SQL_MAX_ATTEMPTS"},
}


CONST_DECL_RE = re.compile(r"static const char (\w+)\[\]\s*=")


class Tok:
    """A C or SQL token: kind, text and [start, end) offsets in its text."""
    __slots__ = ("kind", "text", "start", "end")

    def __init__(self, kind, text, start, end):
        self.kind, self.text, self.start, self.end = kind, text, start, end


C_PUNCT = ["<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&",
           "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^="]


def lex_c(src):
    """Significant tokens of C source: comments, whitespace and preprocessor lines dropped."""
    toks, i, n, bol = [], 0, len(src), True
    while i < n:
        ch = src[i]
        if ch == "\n":
            bol, i = True, i + 1
            continue
        if ch in " \t\r\f\v":
            i += 1
            continue
        if bol and ch == "#":
            while i < n and (src[i] != "\n" or src[i - 1] == "\\"):
                i += 1
            continue
        bol = False
        if src.startswith("//", i):
            i = src.find("\n", i)
            i = n if i < 0 else i
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif ch in "\"'":
            j = i + 1
            while j < n and src[j] != ch:
                j += 2 if src[j] == "\\" else 1
            toks.append(Tok("str" if ch == '"' else "char", src[i:j + 1], i, j + 1))
            i = j + 1
        elif ch.isalpha() or ch == "_":
            m = re.compile(r"[A-Za-z_0-9]+").match(src, i)
            toks.append(Tok("ident", m.group(), i, m.end()))
            i = m.end()
        elif ch.isdigit():
            m = re.compile(r"[0-9A-Za-z_.]+").match(src, i)
            toks.append(Tok("num", m.group(), i, m.end()))
            i = m.end()
        else:
            p = next((p for p in C_PUNCT if src.startswith(p, i)), ch)
            toks.append(Tok("punct", p, i, i + len(p)))
            i += len(p)
    return toks


def lex_sql(text):
    """Significant tokens of SQL text (whitespace dropped)."""
    toks, i, n = [], 0, len(text)
    pat = re.compile(r"\s+|[A-Za-z_][A-Za-z_0-9]*|[0-9]+|\?[0-9]*|'(?:[^']|'')*'|"
                     r"<=|>=|<>|!=|==|\|\||<<|>>|.", re.S)
    while i < n:
        m = pat.match(text, i)
        t = m.group()
        if not t.isspace():
            kind = ("ident" if t[0].isalpha() or t[0] == "_" else
                    "num" if t[0].isdigit() else "param" if t[0] == "?" else
                    "str" if t[0] == "'" else "op")
            toks.append(Tok(kind, t, i, m.end()))
        i = m.end()
    return toks


def matching(toks, open_, close):
    """Map the index of every open_/close token to the index of its partner."""
    pair, stack = {}, []
    for k, t in enumerate(toks):
        if t.kind in ("punct", "op") and t.text == open_:
            stack.append(k)
        elif t.kind in ("punct", "op") and t.text == close and stack:
            j = stack.pop()
            pair[j], pair[k] = k, j
    return pair


class Mutant:
    """One single-site change: replace src[start:end] of `path` with `repl`."""

    def __init__(self, path, op, start, end, repl):
        self.path, self.op, self.start, self.end, self.repl = path, op, start, end, repl
        self.id = None
        self.fingerprint = None
        self.func = "-"


def functions(toks):
    """(name, first body token index, last body token index) of every function definition."""
    parens, braces = matching(toks, "(", ")"), matching(toks, "{", "}")
    out, k = [], 0
    while k < len(toks):
        t = toks[k]
        if t.text == "{" and t.kind == "punct":
            close = braces.get(k, len(toks) - 1)
            prev = toks[k - 1] if k else None
            if prev is not None and prev.text == ")" and k - 1 in parens:
                name_idx = parens[k - 1] - 1
                if name_idx >= 0 and toks[name_idx].kind == "ident":
                    out.append((toks[name_idx].text, k, close))
            k = close + 1
        else:
            k += 1
    return out


def zero_clamp(toks, k):
    """Whether toks[k] is the "<" of "x < 0 ? x : 0", which maps every x >= 0 to 0. Moving
    its bound ("x <= 0 ? x : 0") or its literal ("x < 1 ? x : 0") changes the result only at
    x == 0, where both branches give 0: equivalent by construction, so not generated."""
    want = [None, "<", "0", "?", None, ":", "0"]
    if k < 1 or k + 5 >= len(toks):
        return False
    got = toks[k - 1:k + 6]
    return (all(w is None or g.text == w for g, w in zip(got, want)) and
            got[0].kind == "ident" and got[4].text == got[0].text)


def c_comparisons(path, toks):
    out = []
    for k, t in enumerate(toks):
        if t.kind != "punct" or t.text not in NEGATE:
            continue
        out.append(Mutant(path, "cmp-negate", t.start, t.end, NEGATE[t.text]))
        clamp = zero_clamp(toks, k)
        if t.text in BOUND and not clamp:
            out.append(Mutant(path, "cmp-bound", t.start, t.end, BOUND[t.text]))
        out += [m for m in literal_mutants(path, "", toks, k)
                if not (clamp and m.op == "lit-plus1")]
    return out


def literal_mutants(path, prefix, toks, k):
    """lit-plus1/lit-minus1 of the integer literal next to comparison toks[k] (right side
    first). Offsets are those of the tokens; SQL callers translate them."""
    for j in (k + 1, k - 1):
        if 0 <= j < len(toks) and toks[j].kind == "num":
            m = INT_RE.match(toks[j].text)
            if m:
                v, suffix = int(m.group(1)), m.group(2)
                t = toks[j]
                return [Mutant(path, prefix + "lit-plus1", t.start, t.end, f"{v + 1}{suffix}"),
                        Mutant(path, prefix + "lit-minus1", t.start, t.end, f"{v - 1}{suffix}")]
    return []


def sql_literals(toks):
    """Runs of adjacent string tokens whose text is SQL: (content, offset map) pairs, where
    map[i] is the source offset of content character i."""
    out, k = [], 0
    while k < len(toks):
        if toks[k].kind != "str":
            k += 1
            continue
        content, offs = [], []
        while k < len(toks) and toks[k].kind == "str":
            t = toks[k]
            content.append(t.text[1:-1])
            offs.extend(range(t.start + 1, t.end - 1))
            k += 1
        text = "".join(content)
        if SQL_START_RE.match(text):
            out.append((text, offs))
    return out


def sql_assignment(stoks, k, set_depth, depth):
    """True when the '=' at stoks[k] assigns a column in a SET clause."""
    return (set_depth == depth and k >= 2 and stoks[k - 1].kind == "ident"
            and (stoks[k - 2].text == "," or stoks[k - 2].text.upper() == "SET"))


def sql_mutants(path, text, offs):
    out, stoks = [], lex_sql(text)

    def src(m):  # content offsets -> source offsets
        m.start, m.end = offs[m.start], offs[m.end - 1] + 1
        return m

    depth, set_depth = 0, None
    for k, t in enumerate(stoks):
        up = t.text.upper()
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
            if set_depth is not None and depth < set_depth:
                set_depth = None
        elif t.text == ";":
            depth, set_depth = 0, None
        elif t.kind == "ident" and up == "SET":
            set_depth = depth
        elif t.kind == "ident" and up in ("WHERE", "FROM", "RETURNING") and set_depth == depth:
            set_depth = None
        elif t.kind == "op" and t.text in SQL_NEGATE:
            if t.text == "=" and sql_assignment(stoks, k, set_depth, depth):
                continue
            out.append(src(Mutant(path, "sql-cmp-negate", t.start, t.end, SQL_NEGATE[t.text])))
            if t.text in BOUND:
                out.append(src(Mutant(path, "sql-cmp-bound", t.start, t.end, BOUND[t.text])))
            out += [src(m) for m in literal_mutants(path, "sql-", stoks, k)]
    out += [src(m) for m in where_drops(path, stoks)]
    return out


def where_drops(path, stoks):
    """sql-where-drop mutants (content offsets) of every WHERE / JOIN ON clause with two or
    more top-level AND conjuncts and no top-level OR."""
    out = []
    for k, t in enumerate(stoks):
        up = t.text.upper()
        if t.kind != "ident" or up not in ("WHERE", "ON"):
            continue
        if up == "ON" and k + 1 < len(stoks) and stoks[k + 1].text.upper() == "CONFLICT":
            continue
        terms, start, depth, between, has_or, j = [], k + 1, 0, False, False, k + 1
        while j < len(stoks):
            s, su = stoks[j], stoks[j].text.upper()
            if s.text == "(" or su == "CASE":
                depth += 1
            elif s.text == ")" or su == "END":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and (s.text == ";" or (s.kind == "ident" and su in CLAUSE_END)):
                break
            elif depth == 0 and su == "BETWEEN":
                between = True
            elif depth == 0 and su == "OR":
                has_or = True
            elif depth == 0 and su == "AND" and s.kind == "ident":
                if between:
                    between = False
                else:
                    terms.append((start, j - 1))
                    start = j + 1
            j += 1
        terms.append((start, j - 1))
        # an empty term: the literal is a fragment of a statement assembled at run time
        # (e.g. ending in AND), whose conjuncts this lexer cannot see whole
        if has_or or len(terms) < 2 or any(a > b for a, b in terms):
            continue
        for i, (a, b) in enumerate(terms):
            if i == 0:
                lo, hi = stoks[a].start, stoks[terms[1][0]].start
            else:
                lo, hi = stoks[terms[i - 1][1]].end, stoks[b].end
            out.append(Mutant(path, "sql-where-drop", lo, hi, ""))
    return out


def error_codes(root):
    """The DURO_E* codes of lib/duro-common.h, in their order of definition."""
    with open(os.path.join(root, "lib", "duro-common.h"), encoding="utf-8") as f:
        return re.findall(r"^#define (DURO_E[A-Z]+) \(-[0-9]+\)", f.read(), re.M)


def errcode_and_retry(path, toks, codes):
    out, parens = [], matching(toks, "(", ")")
    for k, t in enumerate(toks):
        if t.kind != "ident":
            continue
        if t.text in codes:
            nxt = codes[(codes.index(t.text) + 1) % len(codes)]
            out.append(Mutant(path, "errcode-swap", t.start, t.end, nxt))
        arg = None
        if t.text == "duro_error_set" and k + 1 in parens:
            commas, depth = [], 0
            for j in range(k + 2, parens[k + 1]):
                depth += toks[j].text in "([{" and toks[j].kind == "punct"
                depth -= toks[j].text in ")]}" and toks[j].kind == "punct"
                if depth == 0 and toks[j].text == ",":
                    commas.append(j)
            if len(commas) >= 3 and commas[2] == commas[1] + 2:
                arg = toks[commas[1] + 1]
        elif (t.text == "retryable" and k + 2 < len(toks) and toks[k + 1].text == "="
              and toks[k + 2].text in ("0", "1")):
            arg = toks[k + 2]
        if arg is not None:
            flip = {"0": "1", "1": "0", "true": "false", "false": "true"}.get(arg.text)
            if flip:
                out.append(Mutant(path, "retry-flip", arg.start, arg.end, flip))
    return out


def txn_functions(parsed):
    """Names of the functions that open a transaction or are called, transitively, by one."""
    bodies = {}
    for toks, funcs in parsed.values():
        for name, lo, hi in funcs:
            calls = {toks[j].text for j in range(lo, hi)
                     if toks[j].kind == "ident" and toks[j + 1].text == "("}
            bodies.setdefault(name, set()).update(calls)
    todo = [n for n, calls in bodies.items() if calls & TXN_BEGIN]
    seen = set(todo)
    while todo:
        for callee in bodies[todo.pop()]:
            if callee in bodies and callee not in seen:
                seen.add(callee)
                todo.append(callee)
    return seen


def statement_start(toks, k, lo, parens):
    """Index of the first token of the expression statement containing toks[k], or None when
    toks[k] sits in a condition, a call argument, a declaration or a return."""
    j = k - 1
    while j > lo:
        t = toks[j]
        if t.text in (";", "{", "}", "else"):
            break
        if t.text == ")" and j in parens:
            if toks[parens[j] - 1].text in CONTROL:
                break
            j = parens[j] - 1
            continue
        if t.text == "(":
            return None
        j -= 1
    first = j + 1
    a, b = toks[first], toks[first + 1]
    if a.text == "return" or (a.kind == "ident" and b.kind == "ident") or \
            (a.kind == "ident" and b.text == "*" and toks[first + 2].kind == "ident"):
        return None
    return first


def txn_drops(path, toks, funcs, txn):
    out, parens, done = [], matching(toks, "(", ")"), set()
    for name, lo, hi in funcs:
        if name not in txn:
            continue
        for k in range(lo + 1, hi):
            t = toks[k]
            if t.kind != "ident" or not TXN_STEP_RE.match(t.text) or toks[k + 1].text != "(":
                continue
            first = statement_start(toks, k, lo, parens)
            if first is None or first in done:
                continue
            done.add(first)
            end = k
            while toks[end].text != ";":
                end = parens[end] if end in parens and toks[end].text == "(" else end
                end += 1
            out.append(Mutant(path, "txn-drop", toks[first].start, toks[end].end, "(void)0;"))
    return out


def generate(root):
    """Every mutant of root/providers/sqlite/*.c and util/notify.c, ids assigned, in
    deterministic order."""
    files = sorted(os.path.relpath(p, root)
                   for p in glob.glob(os.path.join(root, "providers", "sqlite", "*.c")))
    files.append(os.path.join("util", "notify.c"))
    sources, parsed = {}, {}
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            sources[rel] = f.read()
        toks = lex_c(sources[rel])
        parsed[rel] = (toks, functions(toks))
    codes, txn = error_codes(root), txn_functions(parsed)
    mutants = []
    for rel in files:
        toks, funcs = parsed[rel]
        ms = c_comparisons(rel, toks)
        for text, offs in sql_literals(toks):
            ms += sql_mutants(rel, text, offs)
        ms += txn_drops(rel, toks, funcs, txn)
        ms += errcode_and_retry(rel, toks, codes)
        ms.sort(key=lambda m: (m.start, OPERATORS.index(m.op), m.end, m.repl))
        seen, seen_print = {}, {}
        for m in ms:
            line = sources[rel].count("\n", 0, m.start) + 1
            key = (line, m.op)
            seen[key] = seen.get(key, 0) + 1
            m.id = f"{rel}:{line}:{m.op}" + (f"#{seen[key]}" if seen[key] > 1 else "")
            base = fingerprint(m, sources[rel], toks, funcs)
            seen_print[base] = seen_print.get(base, 0) + 1
            m.fingerprint = f"{base}.{seen_print[base]}"
        mutants += ms
    return mutants, sources


def fingerprint(m, src, toks, funcs):
    """A name for a mutant that survives edits elsewhere in its file: the enclosing function
    (or the file-level constant, e.g. an SQL string, or "-"), the operator and a hash of the changed lines before and after the
    change, whitespace collapsed. Line numbers are left out, so the entries of
    tests/mutants-equivalent.txt keep matching while unrelated code moves."""
    func = "-"
    for name, lo, hi in funcs:
        if toks[lo].start <= m.start < toks[hi].end:
            func = name
            break
    if func == "-":  # in a file-level constant, e.g. an SQL string: name it after that
        decl = None
        for d in CONST_DECL_RE.finditer(src, 0, m.start):
            decl = d
        if decl is not None and ";" not in src[decl.end():m.start]:
            func = decl.group(1)
    m.func = func
    lo = src.rfind("\n", 0, m.start) + 1
    hi = src.find("\n", m.end)
    hi = len(src) if hi < 0 else hi
    before = " ".join(src[lo:hi].split())
    after = " ".join((src[lo:m.start] + m.repl + src[m.end:hi]).split())
    digest = hashlib.sha256(f"{before}\0{after}".encode()).hexdigest()[:12]
    return f"{m.path}:{func}:{m.op}:{digest}"


def read_equivalent(root):
    """tests/mutants-equivalent.txt: fingerprint -> reason. Each entry is one line
    "fingerprint<TAB>reason"; '#' starts a comment line. The file records the survivors that
    were shown to be equivalent (no caller of the provider API can observe the change)."""
    path = os.path.join(root, "tests", "mutants-equivalent.txt")
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t", 1)
            if len(parts) != 2 or not parts[1].strip():
                sys.exit(f"mutants.py: {path}:{n}: expected \"fingerprint<TAB>reason\"")
            out[parts[0].strip()] = parts[1].strip()
    return out


def mutated(m, sources):
    s = sources[m.path]
    return s[:m.start] + m.repl + s[m.end:]


def unified(m, sources):
    """The unified diff of a mutant: one hunk, 3 lines of context. (difflib would treat
    frequent lines such as "}" as junk and widen the hunk.)"""
    a = sources[m.path].splitlines(keepends=True)
    b = mutated(m, sources).splitlines(keepends=True)
    pre = 0
    while pre < min(len(a), len(b)) and a[pre] == b[pre]:
        pre += 1
    suf = 0
    while suf < min(len(a), len(b)) - pre and a[-1 - suf] == b[-1 - suf]:
        suf += 1
    lo, ahi, bhi = max(0, pre - 3), min(len(a), len(a) - suf + 3), min(len(b), len(b) - suf + 3)
    out = [f"--- a/{m.path}\n", f"+++ b/{m.path}\n",
           f"@@ -{lo + 1},{ahi - lo} +{lo + 1},{bhi - lo} @@\n"]
    out += [" " + x for x in a[lo:pre]] + ["-" + x for x in a[pre:len(a) - suf]]
    out += ["+" + x for x in b[pre:len(b) - suf]] + [" " + x for x in a[len(a) - suf:ahi]]
    return "".join(out)


def in_scope(m, scope):
    """Whether mutant m belongs to `scope`: "all", or "contract" (not in OPEN_TIME)."""
    if scope == "all" or m.path not in OPEN_TIME:
        return True
    funcs = OPEN_TIME[m.path]
    return funcs is not None and m.func not in funcs


def select(mutants, only, sample, seed):
    if only:
        by_id = {m.id: m for m in mutants}
        missing = [i for i in only if i not in by_id]
        if missing:
            sys.exit("mutants.py: unknown mutant id(s): " + ", ".join(missing)
                     + " (see tests/mutants.sh --list)")
        return [by_id[i] for i in only]
    if sample is not None and sample < len(mutants):
        rank = lambda m: hashlib.sha256(f"{seed}:{m.id}".encode()).hexdigest()
        keep = set(id(m) for m in sorted(mutants, key=rank)[:sample])
        return [m for m in mutants if id(m) in keep]
    return mutants


def find(mutants, mid):
    for m in mutants:
        if m.id == mid:
            return m
    sys.exit(f"mutants.py: unknown mutant id {mid}")


def read_results(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                rows.append((parts[0], parts[1], float(parts[2]),
                             parts[3] if len(parts) > 3 else ""))
    return rows


def report(args, mutants, sources):
    by_id = {m.id: m for m in mutants}
    equivalent = read_equivalent(args.root)
    rows = [(i, "equivalent" if st == "survived" and by_id[i].fingerprint in equivalent
             else st, sec, detail) for i, st, sec, detail in read_results(args.results)]
    count = lambda st, op=None: sum(1 for r in rows if r[1] == st and
                                    (op is None or by_id[r[0]].op == op))
    killed, survived, stillborn = count("killed"), count("survived"), count("stillborn")
    equiv = count("equivalent")
    rate = 100.0 * killed / (killed + survived) if killed + survived else 0.0
    secs = [r[2] for r in rows]
    summary = [(f"mutants generated (scope {args.scope})", str(len(mutants))),
               ("mutants selected", str(args.selected if args.selected is not None
                                         else len(rows))),
               ("run", str(len(rows))), ("stillborn", str(stillborn)),
               ("equivalent (survived, listed in tests/mutants-equivalent.txt)", str(equiv)),
               ("killed", str(killed)), ("survived", str(survived)),
               ("kill rate = killed / (killed + survived)", f"{rate:.1f} %"),
               ("kill rate with the equivalent ones counted as survivors",
                f"{100.0 * killed / (killed + survived + equiv):.1f} %"
                if killed + survived + equiv else "-"),
               ("seconds per mutant", f"{sum(secs) / len(secs):.1f}" if secs else "-")]
    summary += [tuple(n.split("=", 1)) for n in args.note]
    per_op = [(op, count("killed", op), count("survived", op), count("equivalent", op),
               count("stillborn", op)) for op in OPERATORS]
    survivors = [by_id[r[0]] for r in rows if r[1] == "survived"]
    equivalents = [by_id[r[0]] for r in rows if r[1] == "equivalent"]
    stale = [by_id[r[0]] for r in rows
             if r[1] == "killed" and by_id[r[0]].fingerprint in equivalent]

    def table(head, body):
        w = [max(len(str(x)) for x in col) for col in zip(head, *body)]
        line = lambda cells: "| " + " | ".join(str(c).ljust(n) for c, n in zip(cells, w)) + " |"
        return "\n".join([line(head), "|" + "|".join("-" * (n + 2) for n in w) + "|"]
                         + [line(b) for b in body])

    out = ["### Result", "", table(("Measure", "Value"), summary), "",
           table(("Operator", "Killed", "Survived", "Equivalent", "Stillborn"),
                 [p for p in per_op if any(p[1:])]), ""]
    out += [f"### Survivors ({len(survivors)})", ""]
    for m in survivors:
        out += [f"#### `{m.id}`", "", f"fingerprint `{m.fingerprint}`", "",
                "```diff", unified(m, sources).rstrip("\n"), "```", ""]
    if equivalents:
        out += [f"### Equivalent ({len(equivalents)})", "",
                table(("Mutant", "Why no caller can observe it"),
                      [(f"`{m.id}`", equivalent[m.fingerprint]) for m in equivalents]), ""]
    if stale:
        out += ["### Listed as equivalent but killed: remove from tests/mutants-equivalent.txt",
                ""] + [f"- `{m.id}` (`{m.fingerprint}`)" for m in stale] + [""]
    text = "\n".join(out)
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text)
    if args.min_rate is not None and rate < args.min_rate:
        print(f"kill rate {rate:.1f} % is below --min-rate {args.min_rate:g} %",
              file=sys.stderr)
        return 1
    return 0


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `--list | head` ends quietly
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=os.path.dirname(here))
    ap.add_argument("--scope", choices=["contract", "all"], default="contract",
                    help="contract: leave out the open-time code of OPEN_TIME (default)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list")
    p.add_argument("--only", action="append", default=[])
    p.add_argument("--sample", type=int)
    p.add_argument("--seed", default="1")
    p.add_argument("--verbose", action="store_true")
    sub.add_parser("count")
    p = sub.add_parser("apply")
    p.add_argument("id")
    p.add_argument("--into", required=True)
    p = sub.add_parser("diff")
    p.add_argument("id")
    p = sub.add_parser("report")
    p.add_argument("results")
    p.add_argument("--markdown")
    p.add_argument("--selected", type=int)
    p.add_argument("--min-rate", type=float)
    p.add_argument("--note", action="append", default=[], help="NAME=VALUE summary row")
    args = ap.parse_args()

    mutants, sources = generate(args.root)
    mutants = [m for m in mutants if in_scope(m, args.scope)]
    if args.cmd == "list":
        for m in select(mutants, args.only, args.sample, args.seed):
            print(f"{m.id}\t{m.fingerprint}\t{sources[m.path][m.start:m.end]!r} -> {m.repl!r}"
                  if args.verbose else m.id)
    elif args.cmd == "count":
        print(len(mutants))
    elif args.cmd == "apply":
        m = find(mutants, args.id)
        with open(os.path.join(args.into, m.path), "w", encoding="utf-8") as f:
            f.write(mutated(m, sources))
    elif args.cmd == "diff":
        sys.stdout.write(unified(find(mutants, args.id), sources))
    else:
        return report(args, mutants, sources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
