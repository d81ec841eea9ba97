// Unit tests of the quantity parser: every spelling the input files use, and its errors.
#include <gtest/gtest.h>

#include "core/units.hpp"

using whatif::core::Dimension;
using whatif::core::parse_quantity;
using whatif::core::UnitError;

TEST(Units, Bandwidth) {
  EXPECT_DOUBLE_EQ(parse_quantity("25GBps", Dimension::bandwidth), 25e9);
  EXPECT_DOUBLE_EQ(parse_quantity("25GB/s", Dimension::bandwidth), 25e9);
  EXPECT_DOUBLE_EQ(parse_quantity("200Gbps", Dimension::bandwidth), 25e9);
  EXPECT_DOUBLE_EQ(parse_quantity("1GiBps", Dimension::bandwidth), 1073741824.0);
  EXPECT_DOUBLE_EQ(parse_quantity(" 12.5 GBps ", Dimension::bandwidth), 12.5e9);
}

TEST(Units, TimeSizeFrequencyFlops) {
  EXPECT_DOUBLE_EQ(parse_quantity("1.5us", Dimension::time), 1.5e-6);
  EXPECT_DOUBLE_EQ(parse_quantity("700ns", Dimension::time), 700e-9);
  EXPECT_DOUBLE_EQ(parse_quantity("2ms", Dimension::time), 2e-3);
  EXPECT_DOUBLE_EQ(parse_quantity("80GiB", Dimension::size), 80.0 * 1073741824.0);
  EXPECT_DOUBLE_EQ(parse_quantity("40GB", Dimension::size), 40e9);
  EXPECT_DOUBLE_EQ(parse_quantity("8B", Dimension::size), 8.0);
  EXPECT_DOUBLE_EQ(parse_quantity("1410MHz", Dimension::frequency), 1.41e9);
  EXPECT_DOUBLE_EQ(parse_quantity("312Tf", Dimension::flop_rate), 312e12);
  EXPECT_DOUBLE_EQ(parse_quantity("19.5TFLOPS", Dimension::flop_rate), 19.5e12);
  EXPECT_DOUBLE_EQ(parse_quantity("624TOPS", Dimension::flop_rate), 624e12);
  EXPECT_DOUBLE_EQ(parse_quantity("50%", Dimension::ratio), 0.5);
  EXPECT_DOUBLE_EQ(parse_quantity("0.25", Dimension::ratio), 0.25);
  EXPECT_DOUBLE_EQ(parse_quantity("400W", Dimension::power), 400.0);
}

TEST(Units, Errors) {
  EXPECT_THROW(parse_quantity("25", Dimension::bandwidth), UnitError);         // no unit
  EXPECT_THROW(parse_quantity("25GHz", Dimension::bandwidth), UnitError);      // wrong dimension
  EXPECT_THROW(parse_quantity("fast", Dimension::bandwidth), UnitError);       // no number
  EXPECT_THROW(parse_quantity("", Dimension::time), UnitError);                // empty
  EXPECT_THROW(parse_quantity("1e400GBps", Dimension::bandwidth), UnitError);  // overflow
  EXPECT_THROW(parse_quantity("1.2.3us", Dimension::time), UnitError);         // malformed number
  EXPECT_THROW(parse_quantity("5Gz", Dimension::frequency), UnitError);        // typo
  EXPECT_THROW(parse_quantity("1KiHz", Dimension::frequency), UnitError);      // binary prefix on Hz
  try {
    parse_quantity("3 parsecs", Dimension::time);
    FAIL();
  } catch (const UnitError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown time unit 'parsecs'"), std::string::npos) << e.what();
  }
}

TEST(Units, Format) {
  EXPECT_EQ(whatif::core::format_quantity(25e9, Dimension::bandwidth), "25 GB/s");
  EXPECT_EQ(whatif::core::format_quantity(1.5e-6, Dimension::time), "1.5 us");
  EXPECT_EQ(whatif::core::format_quantity(80.0 * 1073741824.0, Dimension::size), "80 GiB");
}
