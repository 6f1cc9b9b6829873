#include <catch2/catch.hpp>
#include <string>

#include "cli/format/go_json.h"
#include "cli/format/table_writer.h"
#include "cli/format/units.h"

using namespace berth::cli;
using berth::RAMInBytes;

TEST_CASE("units: HumanSizeWithPrecision and HumanSize as go-units") {
  CHECK(HumanSizeWithPrecision(0, 3) == "0B");
  CHECK(HumanSizeWithPrecision(1984000, 3) == "1.98MB");
  CHECK(HumanSizeWithPrecision(4264000, 3) == "4.26MB");
  CHECK(HumanSizeWithPrecision(105000000, 3) == "105MB");
  CHECK(HumanSizeWithPrecision(999, 3) == "999B");
  CHECK(HumanSizeWithPrecision(1000, 3) == "1kB");
  CHECK(HumanSizeWithPrecision(999999, 3) == "1e+03kB");
  CHECK(HumanSize(1984000) == "1.984MB");
  CHECK(HumanSize(1234567890) == "1.235GB");
  CHECK(BytesSize(25275158528.0) == "23.54GiB");
  CHECK(BytesSize(1024) == "1KiB");
}

TEST_CASE("units: HumanDuration as go-units") {
  CHECK(HumanDuration(0.5) == "Less than a second");
  CHECK(HumanDuration(1) == "1 second");
  CHECK(HumanDuration(59) == "59 seconds");
  CHECK(HumanDuration(60) == "About a minute");
  CHECK(HumanDuration(119) == "About a minute");
  CHECK(HumanDuration(120) == "2 minutes");
  CHECK(HumanDuration(3599) == "59 minutes");
  CHECK(HumanDuration(3600) == "About an hour");
  CHECK(HumanDuration(2 * 3600) == "2 hours");
  CHECK(HumanDuration(47 * 3600) == "47 hours");
  CHECK(HumanDuration(48 * 3600) == "2 days");
  CHECK(HumanDuration(14 * 86400) == "2 weeks");
  CHECK(HumanDuration(60 * 86400) == "2 months");
  CHECK(HumanDuration(2 * 365 * 86400.0) == "2 years");
  CHECK(HumanDuration(56.9 * 365 * 86400.0) == "56 years");
  CHECK(TimeAgo(1000, 1002) == "2 seconds ago");
}

TEST_CASE("units: RAMInBytes parses docker's size flags") {
  CHECK(*RAMInBytes("64m") == 64 * 1024 * 1024);
  CHECK(*RAMInBytes("64M") == 64 * 1024 * 1024);
  CHECK(*RAMInBytes("1g") == 1024LL * 1024 * 1024);
  CHECK(*RAMInBytes("1.5GiB") == 1536LL * 1024 * 1024);
  CHECK(*RAMInBytes("512k") == 512 * 1024);
  CHECK(*RAMInBytes("100") == 100);
  CHECK(*RAMInBytes("100b") == 100);
  CHECK_FALSE(RAMInBytes("abc").ok());
  CHECK_FALSE(RAMInBytes("-1m").ok());
}

TEST_CASE("units: Go float formatting") {
  CHECK(GoFormatFloat(3735) == "3735");
  CHECK(GoFormatFloat(0.5) == "0.5");
  CHECK(GoFormatFloat(1e6) == "1e+06");
  CHECK(GoFormatFloat(123456) == "123456");
  CHECK(GoFormatFloat(0.0001) == "0.0001");
  CHECK(GoFormatFloat(0.00001) == "1e-05");
  CHECK(GoFormatG(1.984, 3) == "1.98");
  CHECK(GoFormatG(105, 3) == "105");
  CHECK(GoJsonFloat(0.5) == "0.5");
  CHECK(GoJsonFloat(1e21) == "1e+21");
  CHECK(GoJsonFloat(1e-7) == "1e-7");
  CHECK(GoJsonFloat(100) == "100");
}

TEST_CASE("tabwriter: docker's table layout (minwidth 10, padding 3)") {
  TabWriter w(10, 1, 3, ' ');
  w.Write("CONTAINER ID\tIMAGE\tNAMES\n");
  w.Write("42115cd7fc80\t127.0.0.1:39041/busybox\tweb\n");
  w.Write("6837e95aed6f\tbusybox\tunruffled_newton\n");
  CHECK(w.Flush() ==
        "CONTAINER ID   IMAGE                     NAMES\n"
        "42115cd7fc80   127.0.0.1:39041/busybox   web\n"
        "6837e95aed6f   busybox                   unruffled_newton\n");
}

TEST_CASE("tabwriter: empty cells, runes, and single-cell lines end a block") {
  TabWriter w(10, 1, 3, ' ');
  w.Write("A\tPORTS\tNAMES\n");
  w.Write("x\t\tweb\n");
  CHECK(w.Flush() == "A         PORTS     NAMES\nx                   web\n");

  TabWriter v(20, 1, 1, ' ');
  v.Write("Client:\n Version:\t1\n API version:\t1.41\n\nServer:\n Engine:\n  Version:\t2\n");
  CHECK(
      v.Flush() ==
      "Client:\n Version:           1\n API version:       1.41\n\nServer:\n Engine:\n  Version:  "
      "        2\n");

  TabWriter u(1, 1, 1, ' ');
  u.Write("é…\tx\nab\ty\n");
  CHECK(u.Flush() == "é… x\nab y\n");
}

TEST_CASE("json: Go marshaling, json.Indent, strconv.Quote, Ellipsis") {
  OrderedJson j = OrderedJson::parse(R"({"b":1,"a":[true,null,"x<y"],"c":{},"d":[],"e":1.5})");
  CHECK(GoJsonMarshal(j) == R"({"b":1,"a":[true,null,"x<y"],"c":{},"d":[],"e":1.5})");
  CHECK(GoJsonMarshal(j, true) == R"({"b":1,"a":[true,null,"x\u003cy"],"c":{},"d":[],"e":1.5})");
  CHECK(GoJsonMarshal(OrderedJson("a\"\\\n\x01")) == R"("a\"\\\n\u0001")");
  CHECK(
      GoJsonIndent(R"([{"Id":"x","A":[],"B":{},"C":[1,2],"D":{"k":"a b"}}])", "", "    ") ==
      "[\n    {\n        \"Id\": \"x\",\n        \"A\": [],\n        \"B\": {},\n        \"C\": [\n"
      "            1,\n            2\n        ],\n        \"D\": {\n            \"k\": \"a b\"\n"
      "        }\n    }\n]");
  CHECK(GoJsonIndent(R"({"a":"\u003c\"}"})", "", "  ") == "{\n  \"a\": \"\\u003c\\\"}\"\n}");
  CHECK(GoQuote("sleep 1000") == "\"sleep 1000\"");
  CHECK(GoQuote("sh -c 'trap \"exit 0\" TERM'") == R"("sh -c 'trap \"exit 0\" TERM'")");
  CHECK(GoQuote("a\tb\x01…") == "\"a\\tb\\x01…\"");
  CHECK(Ellipsis("sleep 1000", 20) == "sleep 1000");
  CHECK(Ellipsis("sh -c 'trap \"exit 0\" TERM; while :; do sleep 0.1; done'", 20) ==
        "sh -c 'trap \"exit 0…");
  CHECK(Ellipsis("abc", 1) == "a");
}
