// Python spellings that Ocean's observable behaviour depends on: str() and repr() of the values
// jq.py hands back (integral numbers are Python ints), Python's whitespace set (`str.strip`,
// regex `\s`) and its regex word characters (`\w`). Private to mapping/.
#ifndef PORTOLAN_MAPPING_INTERNAL_PYTHON_H_
#define PORTOLAN_MAPPING_INTERNAL_PYTHON_H_

#include <string>
#include <string_view>

#include "engine/base/json.h"

namespace portolan::mapping::internal {

// repr(float): shortest round-trip digits, "1.0", "1e+16", "1e-05", "inf", "nan".
std::string PythonFloatRepr(double d);

// str(v) for a value coming out of jq.py: integral numbers print as ints ("7"), other numbers
// as floats ("1.5"), true -> "True", null -> "None", strings unquoted, containers as repr().
std::string PythonStr(const json::Value& v);

// repr(v): strings quoted the way Python quotes them ('a', "it's"), dicts as {'k': 1}.
std::string PythonRepr(const json::Value& v);
std::string PythonReprString(std::string_view s);

// type(v).__name__: "NoneType", "bool", "int", "float", "str", "list", "dict".
std::string PythonTypeName(const json::Value& v);

// Decodes one UTF-8 code point at `pos` (advancing it). Invalid bytes decode as themselves.
char32_t NextCodePoint(std::string_view s, size_t* pos);

// str.isspace() / regex `\s` on str patterns.
bool IsPythonSpace(char32_t c);
// regex `\w` on str patterns. ASCII is exact; beyond ASCII every code point counts as a word
// character except Latin-1 punctuation and the Unicode punctuation, symbol and space blocks
// (an approximation of Python's Unicode alphanumeric test).
bool IsPythonWordChar(char32_t c);

// str.strip() with no arguments.
std::string_view PythonStrip(std::string_view s);

}  // namespace portolan::mapping::internal

#endif  // PORTOLAN_MAPPING_INTERNAL_PYTHON_H_
