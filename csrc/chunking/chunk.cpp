// The chunking entry points; see chunk.hpp.
#include "chunking/chunk.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "chunking/text_scan.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "text/utf8.hpp"

namespace ctxengine {
namespace {

void add(Chunks& out, const ChunkRecord& rec) {
  out.starts.push_back(static_cast<int64_t>(rec.start));
  out.ends.push_back(static_cast<int64_t>(rec.end));
  out.tokens.push_back(static_cast<int64_t>(rec.tokens));
}

// heading[i] = the last heading whose line starts at or before chunk i's start.
void assign_headings(Chunks& out, const std::vector<Heading>& headings, std::size_t first_chunk,
                     int64_t index_base) {
  out.heading.resize(out.starts.size(), -1);
  for (std::size_t i = first_chunk; i < out.starts.size(); ++i) {
    const auto start = static_cast<uint64_t>(out.starts[i]);
    const auto it = std::upper_bound(headings.begin(), headings.end(), start,
                                     [](uint64_t pos, const Heading& h) { return pos < h.pos; });
    const auto k = static_cast<int64_t>(it - headings.begin());
    out.heading[i] = k == 0 ? -1 : index_base + k - 1;
  }
}

// Byte offsets -> code point offsets; `char_base` code points precede `text`, which starts at
// byte `byte_base`.
void to_char_offsets(std::string_view text, uint64_t byte_base, uint64_t char_base, Chunks& out,
                     std::size_t first_chunk) {
  const OffsetMap map(text);
  for (std::size_t i = first_chunk; i < out.starts.size(); ++i) {
    out.starts[i] = static_cast<int64_t>(
        char_base + map.char_of_byte(static_cast<std::size_t>(out.starts[i] - byte_base)));
    out.ends[i] = static_cast<int64_t>(
        char_base + map.char_of_byte(static_cast<std::size_t>(out.ends[i] - byte_base)));
  }
}

std::string code_point_name(uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

void check_counter(std::string_view text, const SpanCounter& counter) {
  CTX_CHECK(counter.text().data() == text.data() && counter.text().size() == text.size(),
            "the span counter was built over a different text");
}

}  // namespace

CodeLanguage resolve_code_language(std::string_view language, std::string_view path) {
  if (!language.empty()) return code_language_from_name(language);
  return code_language_from_path(path);
}

void scan_boundaries(std::string_view text, const ChunkRequest& request,
                     std::vector<int64_t>* positions, std::vector<int64_t>* levels) {
  const TextWindow w{text, 0, true};
  auto scanner = make_scanner(request.mode, request.language);
  std::vector<Boundary> boundaries;
  scanner->scan(w, w.end(), boundaries);
  positions->clear();
  levels->clear();
  for (Boundary b : boundaries) {
    positions->push_back(static_cast<int64_t>(boundary_pos(b)));
    levels->push_back(boundary_level(b));
  }
  if (request.char_offsets) {
    const OffsetMap map(text);
    for (int64_t& p : *positions)
      p = static_cast<int64_t>(map.char_of_byte(static_cast<std::size_t>(p)));
  }
}

// The chunker over a text whose boundaries are scanned.
Chunks chunk_scanned(std::string_view text, const SpanCounter& counter,
                     const BoundaryScanner& scanner, const std::vector<Boundary>& boundaries,
                     const ChunkRequest& request) {
  check_counter(text, counter);
  Chunker chunker(request.options);
  const TextWindow w{text, 0, true};
  Chunks out;
  ChunkRecord rec;
  while (chunker.next(w, counter, boundaries, w.end(), &rec) == Chunker::Step::Chunk) add(out, rec);
  if (const std::vector<Heading>* headings = scanner.headings()) {
    assign_headings(out, *headings, 0, 0);
    out.headings = *headings;
  }
  if (request.char_offsets) to_char_offsets(text, 0, 0, out, 0);
  return out;
}

Chunks chunk_text(std::string_view text, const SpanCounter& counter, const ChunkRequest& request) {
  CTX_REQUIRE(request.mode != ChunkMode::Tokens,
              "by='tokens' needs the text's token offsets (chunk_token_windows)");
  Chunker check(request.options);
  auto scanner = make_scanner(request.mode, request.language);
  std::vector<Boundary> boundaries;
  scanner->scan(TextWindow{text, 0, true}, text.size(), boundaries);
  return chunk_scanned(text, counter, *scanner, boundaries, request);
}

Chunks chunk_token_windows(std::string_view text, const SpanCounter& counter,
                           const int64_t* token_starts, std::size_t n_tokens,
                           const ChunkRequest& request) {
  check_counter(text, counter);
  const ChunkOptions& opt = request.options;
  Chunker check(opt);  // validates max_tokens and overlap
  const TextWindow w{text, 0, true};
  const auto n = static_cast<int64_t>(text.size());
  for (std::size_t i = 0; i < n_tokens; ++i)
    CTX_REQUIRE(token_starts[i] >= (i ? token_starts[i - 1] : 0) && token_starts[i] <= n,
                "token offsets must not decrease and must stay inside the text");
  // Offset of token boundary k: where token k starts (the first window starts at the text's
  // start even when the first token does not, as after WordPiece's dropped spaces), and the
  // text end for k == n_tokens. A cut may go where a character starts and not between tokens
  // that start at the same place (byte tokens of one character, from a str-offset tokenizer).
  auto offset = [&](std::size_t k) {
    return k == 0 ? uint64_t{0} : static_cast<uint64_t>(k < n_tokens ? token_starts[k] : n);
  };
  auto on_char = [&](std::size_t k) {
    if (k == 0 || k >= n_tokens) return true;
    return token_starts[k] > token_starts[k - 1] &&
           (token_starts[k] == n ||
            !is_utf8_continuation(static_cast<unsigned char>(text[offset(k)])));
  };

  auto count = [&](std::size_t a, std::size_t b) {
    return counter.count(static_cast<std::size_t>(offset(a)), static_cast<std::size_t>(offset(b)));
  };

  // The window [i, j): max_tokens tokens, pulled back to a character boundary and until its
  // own count fits (re-encoding a span alone can differ from its slice of the whole); j == i
  // when not even one character fits.
  auto window = [&](std::size_t i, std::size_t* tokens) {
    std::size_t j = std::min(n_tokens, i + opt.max_tokens);
    for (; j > i; --j) {
      if (!on_char(j) || offset(j) <= offset(i)) continue;
      *tokens = count(i, j);
      if (*tokens <= opt.max_tokens) break;
    }
    return j;
  };

  Chunks out;
  std::size_t i = 0;
  while (i < n_tokens) {
    if (offset(i) >= static_cast<uint64_t>(n)) break;  // only empty tokens are left
    std::size_t tokens = 0;
    const std::size_t j = window(i, &tokens);
    if (j == i) {
      std::size_t len;
      const uint32_t cp = detail::char_at(w, offset(i), &len);
      throw_error(ErrorKind::Limit, "max_tokens=" + std::to_string(opt.max_tokens) +
                                        " cannot hold the character " + code_point_name(cp) +
                                        ": its bytes span more tokens than that");
    }
    add(out, ChunkRecord{offset(i), offset(j), tokens});
    if (j >= n_tokens) break;
    // The next window starts `overlap` tokens back, on a character boundary, sharing at most
    // `overlap` tokens by its own count, and must end past this one: a start from which the
    // window cannot get beyond j (characters of many tokens right after it) would repeat
    // text and add none (found by fuzz/fuzz_text.py).
    std::size_t k = std::max(i + 1, j > opt.overlap ? j - opt.overlap : 0), unused = 0;
    while (k < j && (!on_char(k) || count(k, j) > opt.overlap || window(k, &unused) <= j)) ++k;
    i = k;
  }
  if (request.char_offsets) to_char_offsets(text, 0, 0, out, 0);
  return out;
}

Chunks chunk_any(std::string_view text, const ChunkTokenizer& tokenizer,
                 const ChunkRequest& request, std::size_t threads) {
  Chunker check(request.options);
  const bool tokens = request.mode == ChunkMode::Tokens;
  if (tokens && !tokenizer.token_starts)
    throw_error(ErrorKind::Unsupported,
                "by='tokens' needs the tokenizer's token offsets: use a built-in tokenizer (a "
                "name such as 'cl100k_base', or a ctxengine.Tokenizer), not a count callable");
  // The counter's pass over the text and the boundary scan (or the encoding, for token
  // windows) are independent: run them side by side.
  std::unique_ptr<SpanCounter> counter;
  auto scanner = make_scanner(tokens ? ChunkMode::Recursive : request.mode, request.language);
  std::vector<Boundary> boundaries;
  std::vector<int64_t> starts;
  parallel_for(2, 1, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t task = begin; task < end; ++task) {
      if (task == 0)
        counter = tokenizer.counters(text);
      else if (tokens)
        tokenizer.token_starts(text, starts);
      else
        scanner->scan(TextWindow{text, 0, true}, text.size(), boundaries);
    }
  });
  if (tokens) return chunk_token_windows(text, *counter, starts.data(), starts.size(), request);
  return chunk_scanned(text, *counter, *scanner, boundaries, request);
}

ChunkBatch chunk_many(const std::vector<std::string_view>& texts, const ChunkTokenizer& tokenizer,
                      const ChunkRequest& request, std::size_t threads) {
  Chunker check(request.options);  // fail fast on bad options, before any thread starts
  std::vector<Chunks> per_doc(texts.size());
  parallel_for(texts.size(), 1, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t d = begin; d < end; ++d)
      per_doc[d] = chunk_any(texts[d], tokenizer, request, 1);
  });
  ChunkBatch batch;
  Chunks& all = batch.chunks;
  batch.doc_offsets.reserve(texts.size() + 1);
  batch.doc_offsets.push_back(0);
  std::size_t total = 0;
  for (const Chunks& c : per_doc) total += c.starts.size();
  all.starts.reserve(total);
  all.ends.reserve(total);
  all.tokens.reserve(total);
  for (Chunks& c : per_doc) {
    const auto heading_base = static_cast<int64_t>(all.headings.size());
    all.starts.insert(all.starts.end(), c.starts.begin(), c.starts.end());
    all.ends.insert(all.ends.end(), c.ends.begin(), c.ends.end());
    all.tokens.insert(all.tokens.end(), c.tokens.begin(), c.tokens.end());
    for (int64_t h : c.heading) all.heading.push_back(h < 0 ? -1 : h + heading_base);
    for (Heading& h : c.headings) {
      if (h.parent >= 0) h.parent += heading_base;
      all.headings.push_back(std::move(h));
    }
    batch.doc_offsets.push_back(static_cast<int64_t>(all.starts.size()));
    c = Chunks{};
  }
  return batch;
}

ChunkStream::ChunkStream(const ChunkRequest& request, CounterFactory counters)
    : request_(request),
      counters_(std::move(counters)),
      scanner_(make_scanner(request.mode, request.language)),
      chunker_(request.options) {
  CTX_REQUIRE(request.mode != ChunkMode::Tokens,
              "by='tokens' is not available on streams: it needs the whole text's encoding");
}

ChunkStream::~ChunkStream() = default;

Chunks ChunkStream::feed(std::string_view data, bool eof, std::vector<std::string>* texts) {
  CTX_REQUIRE(!done_, "this chunk stream has already ended");
  buf_.append(data.data(), data.size());
  const TextWindow w{buf_, base_, eof};
  const uint64_t limit = eof                            ? w.end()
                         : w.end() > base_ + kLookahead ? w.end() - kLookahead
                                                        : base_;
  scanner_->scan(w, limit, boundaries_);
  const uint64_t committed = eof ? w.end() : scanner_->committed();

  Chunks out;
  const auto counter = counters_(buf_);
  ChunkRecord rec;
  Chunker::Step step;
  while ((step = chunker_.next(w, *counter, boundaries_, committed, &rec)) ==
         Chunker::Step::Chunk) {
    add(out, rec);
    if (texts) texts->emplace_back(buf_.substr(rec.start - base_, rec.end - rec.start));
  }
  if (eof) {
    CTX_CHECK(step == Chunker::Step::Done, "the stream ended with text left to chunk");
    done_ = true;
  }
  if (const std::vector<Heading>* headings = scanner_->headings()) {
    const int64_t base = scanner_->headings_base();
    assign_headings(out, *headings, 0, base);
    out.headings.assign(headings->begin() + (static_cast<int64_t>(headings_sent_) - base),
                        headings->end());
    headings_sent_ = static_cast<std::size_t>(base) + headings->size();
  }
  if (request_.char_offsets) to_char_offsets(buf_, base_, char_base_, out, 0);

  // Keep what the next decisions may read: from the chunker's cursor and the scanner's
  // uncommitted run, less the scanner's look-behind.
  uint64_t keep = std::min(chunker_.needed_from(), scanner_->committed());
  keep = keep > base_ + kLookbehind ? keep - kLookbehind : base_;
  while (keep > base_ && is_utf8_continuation(static_cast<unsigned char>(buf_[keep - base_])))
    --keep;
  if (keep > base_) {
    const std::size_t drop = static_cast<std::size_t>(keep - base_);
    char_base_ += count_code_points(std::string_view(buf_).substr(0, drop));
    buf_.erase(0, drop);
    base_ = keep;
    const auto first =
        std::lower_bound(boundaries_.begin(), boundaries_.end(), make_boundary(keep, 0));
    boundaries_.erase(boundaries_.begin(), first);
    scanner_->forget_headings_before(keep);
  }
  return out;
}

}  // namespace ctxengine
