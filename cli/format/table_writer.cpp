#include "cli/format/table_writer.h"

#include <utility>

namespace berth::cli {

int RuneCount(std::string_view s) {
  int n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

TabWriter::TabWriter(int minwidth, int tabwidth, int padding, char padchar)
    : minwidth_(minwidth), tabwidth_(tabwidth), padding_(padding), padchar_(padchar) {
  lines_.emplace_back();
}

void TabWriter::AddLine() { lines_.emplace_back(); }

void TabWriter::TerminateCell(bool htab) {
  cell_.htab = htab;
  lines_.back().push_back(cell_);
  cell_ = Cell{};
}

void TabWriter::Write(std::string_view text) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (ch == '\t' || ch == '\v' || ch == '\n' || ch == '\f') {
      std::string_view piece = text.substr(n, i - n);
      buf_.append(piece);
      cell_.size += piece.size();
      cell_.width += RuneCount(piece);
      n = i + 1;
      TerminateCell(ch == '\t');
      if (ch == '\n' || ch == '\f') {
        size_t ncells = lines_.back().size();
        AddLine();
        if (ch == '\f' || ncells == 1) {
          // A line with a single cell does not affect the formatting of the
          // following lines: flush what is buffered.
          FlushInternal();
        }
      }
    }
  }
  std::string_view rest = text.substr(n);
  buf_.append(rest);
  cell_.size += rest.size();
  cell_.width += RuneCount(rest);
}

void TabWriter::WritePadding(int textw, int cellw) {
  if (padchar_ == '\t') {
    if (tabwidth_ == 0) return;
    cellw = (cellw + tabwidth_ - 1) / tabwidth_ * tabwidth_;
    int n = cellw - textw;
    out_.append(static_cast<size_t>((n + tabwidth_ - 1) / tabwidth_), '\t');
    return;
  }
  if (cellw > textw) out_.append(static_cast<size_t>(cellw - textw), padchar_);
}

size_t TabWriter::WriteLines(size_t pos, size_t line0, size_t line1) {
  for (size_t i = line0; i < line1; ++i) {
    const auto& line = lines_[i];
    for (size_t j = 0; j < line.size(); ++j) {
      const Cell& c = line[j];
      if (c.size > 0) {
        out_.append(buf_, pos, c.size);
        pos += c.size;
      }
      if (j < widths_.size()) WritePadding(c.width, widths_[j]);
    }
    if (i + 1 == lines_.size()) {
      // Last buffered line: no newline, write the incomplete cell.
      out_.append(buf_, pos, cell_.size);
      pos += cell_.size;
    } else {
      out_.push_back('\n');
    }
  }
  return pos;
}

size_t TabWriter::Format(size_t pos, size_t line0, size_t line1) {
  size_t column = widths_.size();
  for (size_t current = line0; current < line1; ++current) {
    if (column + 1 >= lines_[current].size()) continue;
    // This line has a cell in this column: print the lines before the block.
    pos = WriteLines(pos, line0, current);
    line0 = current;
    int width = minwidth_;
    for (; current < line1; ++current) {
      const auto& line = lines_[current];
      if (column + 1 >= line.size()) break;
      int w = line[column].width + padding_;
      if (w > width) width = w;
    }
    widths_.push_back(width);
    pos = Format(pos, line0, current);
    widths_.pop_back();
    line0 = current;
    if (current >= line1) break;
  }
  return WriteLines(pos, line0, line1);
}

void TabWriter::FlushInternal() {
  if (cell_.size > 0) TerminateCell(false);
  Format(0, 0, lines_.size());
  buf_.clear();
  cell_ = Cell{};
  lines_.clear();
  widths_.clear();
  AddLine();
}

std::string TabWriter::Flush() {
  FlushInternal();
  return std::exchange(out_, std::string());
}

}  // namespace berth::cli
