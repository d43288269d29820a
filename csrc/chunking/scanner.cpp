// Mode and language names, and the scanner factory.
#include "chunking/scanner.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/error.hpp"

namespace ctxengine {
namespace detail {
std::unique_ptr<BoundaryScanner> make_prose_scanner(bool sentences_only);
std::unique_ptr<BoundaryScanner> make_markdown_scanner();
std::unique_ptr<BoundaryScanner> make_code_scanner(CodeLanguage language);
}  // namespace detail

namespace {

struct LanguageName {
  const char* name;
  CodeLanguage family;
};

// Names and file extensions, lowercase. Languages without braces or significant indentation
// (shell, SQL, Lisp, ...) nest by indentation in practice, which the Indent family reads.
constexpr LanguageName kLanguages[] = {
    {"python", CodeLanguage::Python},     {"py", CodeLanguage::Python},
    {"pyi", CodeLanguage::Python},        {"pyw", CodeLanguage::Python},
    {"pyx", CodeLanguage::Python},        {"c", CodeLanguage::Braces},
    {"h", CodeLanguage::Braces},          {"c++", CodeLanguage::Braces},
    {"cpp", CodeLanguage::Braces},        {"cc", CodeLanguage::Braces},
    {"cxx", CodeLanguage::Braces},        {"hpp", CodeLanguage::Braces},
    {"hh", CodeLanguage::Braces},         {"hxx", CodeLanguage::Braces},
    {"cuda", CodeLanguage::Braces},       {"cu", CodeLanguage::Braces},
    {"cuh", CodeLanguage::Braces},        {"java", CodeLanguage::Braces},
    {"javascript", CodeLanguage::Braces}, {"js", CodeLanguage::Braces},
    {"jsx", CodeLanguage::Braces},        {"mjs", CodeLanguage::Braces},
    {"cjs", CodeLanguage::Braces},        {"typescript", CodeLanguage::Braces},
    {"ts", CodeLanguage::Braces},         {"tsx", CodeLanguage::Braces},
    {"go", CodeLanguage::Braces},         {"rust", CodeLanguage::Braces},
    {"rs", CodeLanguage::Braces},         {"c#", CodeLanguage::Braces},
    {"csharp", CodeLanguage::Braces},     {"cs", CodeLanguage::Braces},
    {"kotlin", CodeLanguage::Braces},     {"kt", CodeLanguage::Braces},
    {"kts", CodeLanguage::Braces},        {"swift", CodeLanguage::Braces},
    {"scala", CodeLanguage::Braces},      {"php", CodeLanguage::Braces},
    {"dart", CodeLanguage::Braces},       {"objective-c", CodeLanguage::Braces},
    {"objc", CodeLanguage::Braces},       {"m", CodeLanguage::Braces},
    {"mm", CodeLanguage::Braces},         {"zig", CodeLanguage::Braces},
    {"css", CodeLanguage::Braces},        {"scss", CodeLanguage::Braces},
    {"less", CodeLanguage::Braces},       {"json", CodeLanguage::Braces},
    {"proto", CodeLanguage::Braces},      {"groovy", CodeLanguage::Braces},
    {"solidity", CodeLanguage::Braces},   {"sol", CodeLanguage::Braces},
    {"yaml", CodeLanguage::Indent},       {"yml", CodeLanguage::Indent},
    {"ruby", CodeLanguage::Indent},       {"rb", CodeLanguage::Indent},
    {"lua", CodeLanguage::Indent},        {"shell", CodeLanguage::Indent},
    {"sh", CodeLanguage::Indent},         {"bash", CodeLanguage::Indent},
    {"zsh", CodeLanguage::Indent},        {"perl", CodeLanguage::Indent},
    {"pl", CodeLanguage::Indent},         {"r", CodeLanguage::Indent},
    {"haskell", CodeLanguage::Indent},    {"hs", CodeLanguage::Indent},
    {"elixir", CodeLanguage::Indent},     {"ex", CodeLanguage::Indent},
    {"exs", CodeLanguage::Indent},        {"nim", CodeLanguage::Indent},
    {"sql", CodeLanguage::Indent},        {"toml", CodeLanguage::Indent},
    {"ini", CodeLanguage::Indent},        {"make", CodeLanguage::Indent},
    {"makefile", CodeLanguage::Indent},   {"cmake", CodeLanguage::Indent},
    {"html", CodeLanguage::Indent},       {"xml", CodeLanguage::Indent},
    {"julia", CodeLanguage::Indent},      {"jl", CodeLanguage::Indent},
    {"ocaml", CodeLanguage::Indent},      {"ml", CodeLanguage::Indent},
    {"lisp", CodeLanguage::Indent},       {"clojure", CodeLanguage::Indent},
    {"text", CodeLanguage::Indent},       {"txt", CodeLanguage::Indent},
    {"generic", CodeLanguage::Indent},
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const LanguageName* find_language(std::string_view name) {
  const std::string key = lower(name);
  for (const auto& entry : kLanguages)
    if (key == entry.name) return &entry;
  return nullptr;
}

}  // namespace

ChunkMode parse_chunk_mode(std::string_view name) {
  if (name == "recursive") return ChunkMode::Recursive;
  if (name == "tokens") return ChunkMode::Tokens;
  if (name == "sentences") return ChunkMode::Sentences;
  if (name == "markdown") return ChunkMode::Markdown;
  if (name == "code") return ChunkMode::Code;
  throw_error(ErrorKind::InvalidArgument,
              "unknown chunking mode '" + std::string(name) +
                  "'; use one of: recursive, tokens, sentences, markdown, code");
}

CodeLanguage code_language_from_name(std::string_view language) {
  if (const LanguageName* entry = find_language(language)) return entry->family;
  throw_error(ErrorKind::InvalidArgument,
              "unknown code language '" + std::string(language) +
                  "'; use a name such as python, c, c++, cuda, java, javascript, typescript, go, "
                  "rust, c#, kotlin, swift, scala, php, dart, zig, css, json, yaml, ruby, lua, "
                  "shell, perl, r, haskell, sql, html, xml, julia, or a file extension (rs, py)");
}

CodeLanguage code_language_from_path(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\");
  const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = base.find_last_of('.');
  const std::string_view ext = dot == std::string_view::npos ? base : base.substr(dot + 1);
  const LanguageName* entry = find_language(ext);
  return entry ? entry->family : CodeLanguage::Indent;
}

std::unique_ptr<BoundaryScanner> make_scanner(ChunkMode mode, CodeLanguage language) {
  switch (mode) {
    case ChunkMode::Markdown:
      return detail::make_markdown_scanner();
    case ChunkMode::Code:
      return detail::make_code_scanner(language);
    case ChunkMode::Sentences:
      return detail::make_prose_scanner(true);
    case ChunkMode::Recursive:
    case ChunkMode::Tokens:
      return detail::make_prose_scanner(false);
  }
  return detail::make_prose_scanner(false);
}

}  // namespace ctxengine
