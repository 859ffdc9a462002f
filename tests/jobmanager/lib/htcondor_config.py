"""Just enough of HTCondor's configuration language and of ClassAds to check
cloudburst's route, transform and submit-requirement files without HTCondor
(which Debian does not package).

Configuration (HTCondor manual, "Introduction to configuration"): one
`NAME = value` per line, a trailing backslash continues a line, `#` starts a
comment line, `NAME @=TAG` ... `@TAG` holds a multi-line value; `$(NAME)` and
`$(NAME:default)` expand when a value is looked up, an unknown name to the
default or nothing, a self-reference to the value before the assignment.

ClassAds: literals, attribute references (MY., TARGET., or unscoped: the
own ad first, then the target), `! || && == != =?= =!= < <= > >= + - * /`,
`?:` and `a ? b : c`, `strcat`, `string`, and undefined as ClassAds
propagate it.  Errors name the file and line.
"""

import re

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
ASSIGN_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=(.*)\Z", re.S)
BLOCK_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*@=\s*(\S+)\s*\Z")
MACRO_RE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.]*)(?::([^()]*))?\)")
MAX_CONFIG_BYTES = 1 << 20


class ConfigError(Exception):
    """A syntax error in a configuration file, naming file and line."""


class Config:
    """The macros of one or more configuration files, read in order."""

    def __init__(self):
        self.raw = {}      # upper-case name -> raw value (self-references resolved)
        self.where = {}    # upper-case name -> "file:line"

    def read(self, path, text=None):
        if text is None:
            with open(path, encoding="utf-8") as f:
                text = f.read(MAX_CONFIG_BYTES + 1)
        if len(text) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            lineno = i + 1
            line = lines[i]
            i += 1
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = BLOCK_RE.match(line)
            if m:
                name, tag = m.group(1), m.group(2)
                body = []
                while True:
                    if i >= len(lines):
                        raise ConfigError(f"{path}:{lineno}: {name} @={tag} is never closed by @{tag}")
                    if lines[i].strip() == "@" + tag:
                        i += 1
                        break
                    body.append(lines[i])
                    i += 1
                self._assign(name, "\n".join(body), f"{path}:{lineno}")
                continue
            while line.rstrip().endswith("\\"):
                if i >= len(lines):
                    raise ConfigError(f"{path}:{lineno}: continuation at end of file")
                line = line.rstrip()[:-1] + " " + lines[i].strip()
                i += 1
            m = ASSIGN_RE.match(line)
            if not m:
                raise ConfigError(f"{path}:{lineno}: not a NAME = value line: {line.strip()[:60]!r}")
            self._assign(m.group(1), m.group(2).strip(), f"{path}:{lineno}")
        return self

    def _assign(self, name, value, where):
        key = name.upper()
        previous = self.raw.get(key, "")

        def self_ref(m):
            if m.group(1).upper() == key:
                return previous if previous else (m.group(2) or "")
            return m.group(0)
        self.raw[key] = MACRO_RE.sub(self_ref, value)
        self.where[key] = where

    def has(self, name):
        return name.upper() in self.raw

    def get(self, name, expand=True, depth=0):
        """The value of NAME, its $(...) macros expanded (recursively)."""
        value = self.raw.get(name.upper())
        if value is None or not expand:
            return value
        if depth > 20:
            raise ConfigError(f"{self.where[name.upper()]}: {name}: macros nest too deep")

        def sub(m):
            inner = self.get(m.group(1), True, depth + 1)
            if inner is None:
                return m.group(2) or ""
            return inner
        return MACRO_RE.sub(sub, value)

    def unknown_macros(self, name):
        """$(...) references in NAME's raw value that no macro defines."""
        return [m.group(1) for m in MACRO_RE.finditer(self.raw.get(name.upper(), ""))
                if not self.has(m.group(1)) and m.group(2) is None]


# --------------------------------------------------------------- transforms
TRANSFORM_COMMANDS = {"REQUIREMENTS", "UNIVERSE", "SET", "EVALSET", "DEFAULT",
                      "EVALDEFAULT", "COPY", "RENAME", "DELETE", "EVALMACRO",
                      "NAME", "TRANSFORM"}


def parse_transform(text, where):
    """A route or job transform body: a list of (COMMAND, argument-text)."""
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        word, _, rest = s.partition(" ")
        if word.upper() not in TRANSFORM_COMMANDS:
            raise ConfigError(f"{where}+{n}: unknown transform command {word!r}")
        if word.upper() in {"SET", "EVALSET", "DEFAULT", "EVALDEFAULT", "COPY", "RENAME"}:
            attr, _, expr = rest.strip().partition(" ")
            if not NAME_RE.match(attr) or not expr.strip():
                raise ConfigError(f"{where}+{n}: {word} needs an attribute and an expression")
        out.append((word.upper(), rest.strip()))
    return out


# ------------------------------------------------------------------ ClassAds
TOKEN_RE = re.compile(r"""
    \s*(?:
      (?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\d+)
    | (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<qname>'(?:[^'\\]|\\.)*')
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
    | (?P<op>=\?=|=!=|\|\||&&|==|!=|<=|>=|\?:|[-+*/<>!()?:;,=\[\]{}])
    )""", re.X)


class ClassAdError(Exception):
    """Bad ClassAd expression text."""


class Undefined:
    def __repr__(self):
        return "undefined"


UNDEFINED = Undefined()


def tokenize(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise ClassAdError(f"cannot read {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
    return out


def parens_balanced(text):
    """True if the expression's parentheses balance outside string literals."""
    depth = 0
    for kind, tok in tokenize(text):
        if kind == "op" and tok == "(":
            depth += 1
        elif kind == "op" and tok == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


class Parser:
    """Recursive descent over the token list; returns nested tuples."""

    PREC = [["?:"], ["||"], ["&&"], ["==", "!=", "=?=", "=!="],
            ["<", "<=", ">", ">="], ["+", "-"], ["*", "/"]]

    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, tok=None):
        kind, value = self.peek()
        if kind is None or (tok is not None and value != tok):
            raise ClassAdError(f"expected {tok or 'more'} at token {self.i}")
        self.i += 1
        return kind, value

    def parse(self):
        e = self.ternary()
        if self.i != len(self.toks):
            raise ClassAdError(f"unexpected {self.toks[self.i][1]!r}")
        return e

    def ternary(self):
        cond = self.binary(0)
        if self.peek() == ("op", "?"):
            self.take("?")
            a = self.ternary()
            self.take(":")
            b = self.ternary()
            return ("?", cond, a, b)
        return cond

    def binary(self, level):
        if level == len(self.PREC):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.PREC[level]:
            op = self.take()[1]
            left = (op, left, self.binary(level + 1))
        return left

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return ("!", self.unary())
        if self.peek() == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == "num":
            return ("lit", float(value) if "." in value else int(value))
        if kind == "str":
            return ("lit", bytes(value[1:-1], "utf-8").decode("unicode_escape"))
        if kind == "op" and value == "(":
            e = self.ternary()
            self.take(")")
            return e
        if kind in ("name", "qname"):
            low = value.lower()
            if low in ("true", "false"):
                return ("lit", low == "true")
            if low in ("undefined", "error"):
                return ("lit", UNDEFINED)
            if self.peek() == ("op", "("):
                self.take("(")
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.ternary())
                    while self.peek() == ("op", ","):
                        self.take(",")
                        args.append(self.ternary())
                self.take(")")
                return ("call", low, args)
            return ("attr", value.strip("'"))
        raise ClassAdError(f"unexpected {value!r}")


def parse_expr(text):
    return Parser(text).parse()


class Ad(dict):
    """A ClassAd: attribute name (any case) -> expression text or value."""

    def __init__(self, **attrs):
        super().__init__()
        for k, v in attrs.items():
            self[k] = v

    def __setitem__(self, k, v):
        super().__setitem__(k.lower(), v)

    def lookup(self, k):
        return super().get(k.lower(), None)


def evaluate(expr, my, target=None, depth=0):
    """Evaluate expression text (or a parsed tree) with MY=my, TARGET=target."""
    tree = parse_expr(expr) if isinstance(expr, str) else expr
    return _eval(tree, my, target or Ad(), depth)


def _attr(name, my, target, depth):
    scope, _, attr = name.rpartition(".")
    scope = scope.lower()
    if depth > 30:
        raise ClassAdError("attribute references nest too deep")
    if scope == "my":
        order = [(my, target)]
    elif scope == "target":
        order = [(target, my)]
    else:
        order = [(my, target), (target, my)]
    for ad, other in order:
        value = ad.lookup(attr)
        if value is None:
            continue
        if isinstance(value, str) and not isinstance(value, Literal):
            return evaluate(value, ad, other, depth + 1)
        return value
    return UNDEFINED


class Literal(str):
    """A string attribute value (as opposed to expression text)."""


def _eq(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def _eval(t, my, target, depth):
    op = t[0]
    if op == "lit":
        return Literal(t[1]) if isinstance(t[1], str) else t[1]
    if op == "attr":
        return _attr(t[1], my, target, depth)
    if op == "call":
        args = [_eval(a, my, target, depth) for a in t[2]]
        if t[1] == "strcat":
            if any(a is UNDEFINED for a in args):
                return UNDEFINED
            return Literal("".join(_string(a) for a in args))
        if t[1] == "string":
            return UNDEFINED if args[0] is UNDEFINED else Literal(_string(args[0]))
        raise ClassAdError(f"function {t[1]} is not known to this checker")
    if op == "!":
        v = _eval(t[1], my, target, depth)
        return UNDEFINED if v is UNDEFINED else (not v)
    if op == "neg":
        v = _eval(t[1], my, target, depth)
        return UNDEFINED if v is UNDEFINED else -v
    if op == "?":
        c = _eval(t[1], my, target, depth)
        if c is UNDEFINED:
            return UNDEFINED
        return _eval(t[2] if c else t[3], my, target, depth)
    a = _eval(t[1], my, target, depth)
    if op == "||":
        if a is True:
            return True
        b = _eval(t[2], my, target, depth)
        if b is True:
            return True
        return UNDEFINED if UNDEFINED in (a, b) else False
    if op == "&&":
        if a is False:
            return False
        b = _eval(t[2], my, target, depth)
        if b is False:
            return False
        return UNDEFINED if UNDEFINED in (a, b) else True
    if op == "?:":
        return _eval(t[2], my, target, depth) if a is UNDEFINED else a
    b = _eval(t[2], my, target, depth)
    if op == "=?=":
        return type(a) is type(b) and a == b if not (isinstance(a, str) and isinstance(b, str)) else a == b
    if op == "=!=":
        return not (type(a) is type(b) and a == b if not (isinstance(a, str) and isinstance(b, str)) else a == b)
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    if op == "==":
        return _eq(a, b)
    if op == "!=":
        return not _eq(a, b)
    ops = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y,
           ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
           "+": lambda x, y: x + y, "-": lambda x, y: x - y,
           "*": lambda x, y: x * y, "/": lambda x, y: x / y}
    return ops[op](a, b)


def _string(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# ------------------------------------------------ old JOB_ROUTER_ENTRIES
def parse_old_entries(text, where):
    """JOB_ROUTER_ENTRIES: a sequence of [ name = expr; ... ] ClassAds in old
    syntax.  Returns a list of dicts attribute(lower case) -> expression text."""
    entries = []
    toks = tokenize(text)
    i = 0

    def expr_until(i):
        depth, start = 0, i
        while i < len(toks):
            kind, tok = toks[i]
            if kind == "op" and tok in "([{":
                depth += 1
            elif kind == "op" and tok in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif kind == "op" and tok == ";" and depth == 0:
                break
            i += 1
        return toks[start:i], i

    while i < len(toks):
        if toks[i] != ("op", "["):
            raise ConfigError(f"{where}: expected '[' to open a route entry, got {toks[i][1]!r}")
        i += 1
        entry = {}
        while i < len(toks) and toks[i] != ("op", "]"):
            kind, name = toks[i]
            if kind != "name" or i + 1 >= len(toks) or toks[i + 1] != ("op", "="):
                raise ConfigError(f"{where}: expected 'attribute =' in entry {len(entries) + 1}, got {name!r}")
            expr, i = expr_until(i + 2)
            if not expr:
                raise ConfigError(f"{where}: {name} has no value in entry {len(entries) + 1}")
            if name.lower() in entry:
                raise ConfigError(f"{where}: {name} twice in entry {len(entries) + 1}")
            entry[name.lower()] = " ".join(tok for _, tok in expr)
            if i < len(toks) and toks[i] == ("op", ";"):
                i += 1
        if i >= len(toks):
            raise ConfigError(f"{where}: entry {len(entries) + 1} is never closed by ']'")
        i += 1
        entries.append(entry)
    return entries
