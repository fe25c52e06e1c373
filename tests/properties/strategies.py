"""What a browser, a script or an attacker may send: text, numbers, query strings, cookies, headers."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import strategies as st

# Values that have broken form parsing somewhere before: NUL (PostgreSQL refuses it in text),
# numbers in other scripts (Python's int() reads them), overflowing and float-shaped numbers,
# markup, SQL, percent-escapes, bidi overrides, and whitespace only.
TRICKY = [
    "",
    " ",
    "\x00",
    "\x00" * 8,
    "0",
    "-1",
    "1.0",
    "1e3",
    "0x10",
    "１",
    "٣",
    "²",
    "NaN",
    "inf",
    "-0",
    "9" * 30,
    str(2**63),
    str(2**31),
    "1,5",
    "1_000",
    " 3 ",
    "true",
    "null",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "%s%s%n",
    "../../etc/passwd",
    "\u202eevil",
    "\r\n",
    "\t",
    "\ufeff",
    "a" * 301,
]

# Any character a request can carry; lone surrogates cannot be encoded into one at all.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=120)
tricky_text = st.sampled_from(TRICKY)
numberish = st.one_of(
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=True).map(str),
)
hostile = st.one_of(tricky_text, numberish, any_text)

# A form field as it arrives: one value, or the same name repeated (``a=1&a=2``).
form_value = st.one_of(hostile, st.lists(hostile, min_size=2, max_size=3))

# Bytes on the wire as WSGI hands them to Django: latin-1 text of any byte.
wire_text = st.one_of(
    tricky_text.filter(lambda s: s.isascii()), st.binary(max_size=80).map(lambda b: b.decode("latin-1"))
)


def path_segment(text: str) -> str:
    """``text`` as one percent-encoded URL path segment."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="") or "%20"


@st.composite
def query_strings(draw, names: tuple[str, ...]) -> str:
    """A raw query string: the view's own names and junk ones, repeated, unencoded or badly encoded."""
    name = st.one_of(st.sampled_from(names + ("utm_source", "page[]", "", "Q", "sort ")), any_text)
    pairs = draw(st.lists(st.tuples(name, hostile), max_size=5))
    encoded = "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in pairs)
    raw_bytes = draw(st.binary(max_size=30))  # broken UTF-8, stray '&', '=', '%'
    return encoded + draw(st.sampled_from(["", "&", "&&="])) + quote(raw_bytes, safe="&=%")


COOKIE_NAMES = ("sessionid", "csrftoken", "wr_ticket", "wr_pass", "messages")


@st.composite
def cookie_headers(draw) -> str:
    """A raw Cookie header: the shop's and the room's cookies with any value, quoted or not, junk around them."""
    names = st.one_of(st.sampled_from(COOKIE_NAMES), st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8))
    crumbs = []
    for name, value in draw(st.lists(st.tuples(names, wire_text), max_size=5)):
        if draw(st.booleans()):
            # Quoted, with octal escapes: http.cookies unquotes "\000" into a real NUL.
            value = '"' + "".join(c if c.isalnum() else f"\\{ord(c):03o}" for c in value) + '"'
        crumbs.append(f"{name}={value}")
    return draw(st.sampled_from(["; ", ";", ", "])).join(crumbs)
