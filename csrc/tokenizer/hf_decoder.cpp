// Decoder steps over lists of token strings, each a transcription of the HF tokenizers decoder
// of the same name (decoders/*.rs), including its quirks (WordPiece's per-token cleanup).
#include "tokenizer/hf_decoder.hpp"

#include "text/utf8.hpp"
#include "tokenizer/hf_bpe.hpp"
#include "tokenizer/normalizer.hpp"

namespace ctxengine::hf {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  if (pos == 0) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

void wordpiece_cleanup(std::string& t) {
  static const char* const kPairs[][2] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},
      {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},   {" do not", " don't"},
      {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& p : kPairs) replace_all(t, p[0], p[1]);
}

void byte_level(std::vector<std::string>& tokens) {
  std::string bytes;
  for (const std::string& t : tokens) {
    std::string raw;
    bool ok = true;
    const auto* p = reinterpret_cast<const unsigned char*>(t.data());
    for (std::size_t i = 0; i < t.size() && ok;) {
      uint32_t cp;
      i += decode_utf8(p, i, &cp);
      const int b = byte_of_char(cp);
      ok = b >= 0;
      raw.push_back(static_cast<char>(b));
    }
    bytes += ok ? raw : t;  // a token with a character outside the alphabet stays as it is
  }
  tokens.assign(1, utf8_lossy(bytes));
}

void byte_fallback(std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  std::string pending;
  auto flush = [&] {
    if (pending.empty()) return;
    if (find_invalid_utf8(pending) == npos) {
      out.push_back(pending);
    } else {
      for (std::size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
    }
    pending.clear();
  };
  for (std::string& t : tokens) {
    int value = -1;
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
      auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                      : -1;
      };
      const int hi = hex(t[3]), lo = hex(t[4]);
      if (hi >= 0 && lo >= 0) value = hi * 16 + lo;
    }
    if (value >= 0) {
      pending.push_back(static_cast<char>(value));
    } else {
      flush();
      out.push_back(std::move(t));
    }
  }
  flush();
  tokens = std::move(out);
}

void strip(const DecoderStep& s, std::vector<std::string>& tokens) {
  const std::vector<uint32_t> content = code_points_of(s.text);
  const uint32_t c = content.empty() ? 0 : content[0];
  for (std::string& t : tokens) {
    const std::vector<uint32_t> cps = code_points_of(t);
    std::size_t start_cut = 0;
    for (std::size_t i = 0; i < s.start && i < cps.size(); ++i) {
      if (cps[i] != c) break;
      start_cut = i + 1;
    }
    std::size_t stop_cut = cps.size();
    for (std::size_t i = 0; i < s.stop && i < cps.size(); ++i) {
      const std::size_t index = cps.size() - i - 1;
      if (cps[index] != c) break;
      stop_cut = index;
    }
    std::string out;
    for (std::size_t i = start_cut; i < stop_cut; ++i) append_utf8(out, cps[i]);
    t = std::move(out);
  }
}

}  // namespace

std::string utf8_lossy(const std::string& bytes) {
  std::string out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const std::size_t bad = find_invalid_utf8(std::string_view(bytes).substr(pos));
    if (bad == npos) {
      out.append(bytes, pos, std::string::npos);
      break;
    }
    out.append(bytes, pos, bad);
    pos += bad;
    // The maximal subpart: the longest prefix of a well-formed sequence (Unicode Table 3-7).
    const auto c = static_cast<unsigned char>(bytes[pos]);
    std::size_t need = c >= 0xC2 && c <= 0xDF   ? 1
                       : c >= 0xE0 && c <= 0xEF ? 2
                       : c >= 0xF0 && c <= 0xF4 ? 3
                                                : 0;
    std::size_t take = 1;
    for (std::size_t k = 1; k <= need && pos + k < bytes.size(); ++k) {
      const auto d = static_cast<unsigned char>(bytes[pos + k]);
      unsigned char lo = 0x80, hi = 0xBF;
      if (k == 1) {
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
      }
      if (d < lo || d > hi) break;
      take = k + 1;
    }
    out += "\xEF\xBF\xBD";
    pos += take;
  }
  return out;
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  using Kind = DecoderStep::Kind;
  if (steps_.empty()) {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) out.push_back(' ');
      out += tokens[i];
    }
    return out;
  }
  for (const DecoderStep& s : steps_) {
    switch (s.kind) {
      case Kind::ByteLevel:
        byte_level(tokens);
        break;
      case Kind::WordPiece:
        for (std::size_t i = 0; i < tokens.size(); ++i) {
          std::string& t = tokens[i];
          if (i != 0) {
            if (t.compare(0, s.text.size(), s.text) == 0) {
              t.erase(0, s.text.size());
            } else {
              t.insert(0, 1, ' ');
            }
          }
          if (s.cleanup) wordpiece_cleanup(t);
        }
        break;
      case Kind::BpeSuffix:
        for (std::size_t i = 0; i < tokens.size(); ++i) {
          replace_all(tokens[i], s.text, i + 1 == tokens.size() ? "" : " ");
        }
        break;
      case Kind::ByteFallback:
        byte_fallback(tokens);
        break;
      case Kind::Fuse: {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
      case Kind::Strip:
        strip(s, tokens);
        break;
      case Kind::Replace:
        for (std::string& t : tokens) replace_all(t, s.text, s.content);
        break;
      case Kind::Metaspace:
        // HF: the replacement becomes a space, except in the first token when a prefix was
        // prepended at encoding (prepend_scheme != never), where it disappears.
        for (std::size_t i = 0; i < tokens.size(); ++i) {
          replace_all(tokens[i], s.text, i == 0 && s.cleanup ? "" : " ");
        }
        break;
    }
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

}  // namespace ctxengine::hf
