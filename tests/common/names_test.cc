#include "common/names.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

TEST(NamesTest, SafeNameTakesLettersDigitsAndInnerPunctuation) {
  EXPECT_TRUE(IsSafeName("M001"));
  EXPECT_TRUE(IsSafeName("7"));
  EXPECT_TRUE(IsSafeName("press-3.line_a"));
  EXPECT_TRUE(IsSafeName("a.."));  // dots after the first character are names, not "." or ".."
}

TEST(NamesTest, SafeNameRefusesWhatIsNotOnePathComponent) {
  EXPECT_FALSE(IsSafeName(""));
  EXPECT_FALSE(IsSafeName("."));
  EXPECT_FALSE(IsSafeName(".."));
  EXPECT_FALSE(IsSafeName("_x"));
  EXPECT_FALSE(IsSafeName("-x"));
  EXPECT_FALSE(IsSafeName("a/b"));
  EXPECT_FALSE(IsSafeName("a b"));
  EXPECT_FALSE(IsSafeName("a+"));
  EXPECT_FALSE(IsSafeName("a#"));
  EXPECT_FALSE(IsSafeName("m\xc3\xa1quina"));  // UTF-8 outside ASCII
  EXPECT_FALSE(IsSafeName(std::string("a\0b", 3)));
}

TEST(NamesTest, SafeNameLengthBoundIsInclusive) {
  EXPECT_TRUE(IsSafeName(std::string(64, 'a')));
  EXPECT_FALSE(IsSafeName(std::string(65, 'a')));
  EXPECT_TRUE(IsSafeName(std::string(128, 'a'), 128));
  EXPECT_FALSE(IsSafeName(std::string(129, 'a'), 128));
}

TEST(NamesTest, IdentifierIsAnUnquotedColumnName) {
  EXPECT_TRUE(IsIdentifier("vibration"));
  EXPECT_TRUE(IsIdentifier("_x1"));
  EXPECT_TRUE(IsIdentifier(std::string(63, 'a')));
  EXPECT_FALSE(IsIdentifier(std::string(64, 'a')));
  EXPECT_FALSE(IsIdentifier(""));
  EXPECT_FALSE(IsIdentifier("1x"));
  EXPECT_FALSE(IsIdentifier("a-b"));
  EXPECT_FALSE(IsIdentifier("a.b"));
  EXPECT_FALSE(IsIdentifier("a b"));
}

}  // namespace
}  // namespace vigil
