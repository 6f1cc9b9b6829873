// Go's text/tabwriter (as vendored by the docker CLI): elastic tabstops.
// Cells are tab-terminated; tab-terminated cells in contiguous lines form a
// column padded to its widest cell (+ padding, at least minwidth). The text
// after a line's last tab is not part of a column. A line without a tab ends
// every column (the writer flushes), as in Go.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

class TabWriter {
 public:
  // docker ps/images: TabWriter(10, 1, 3, ' '); docker version: (20, 1, 1, ' ').
  TabWriter(int minwidth, int tabwidth, int padding, char padchar);

  void Write(std::string_view text);
  // Formats everything buffered and returns the output produced so far.
  std::string Flush();

 private:
  struct Cell {
    size_t size = 0;  // bytes
    int width = 0;    // runes
    bool htab = false;
  };

  void AddLine();
  void TerminateCell(bool htab);
  void FlushInternal();
  void WritePadding(int textw, int cellw);
  size_t WriteLines(size_t pos, size_t line0, size_t line1);
  size_t Format(size_t pos, size_t line0, size_t line1);

  int minwidth_;
  int tabwidth_;
  int padding_;
  char padchar_;

  std::string buf_;
  Cell cell_;
  std::vector<std::vector<Cell>> lines_;
  std::vector<int> widths_;
  std::string out_;
};

// Width of UTF-8 text in runes (what Go's tabwriter counts).
int RuneCount(std::string_view s);

}  // namespace berth::cli
