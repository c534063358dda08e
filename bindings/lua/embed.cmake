# embed.cmake: writes a text file as a C array, so that a Lua script can
# be built into the library (check.lua). Run at build time:
#   cmake -DIN=check.lua -DOUT=check_lua.c -DNAME=rb__lua_check_src \
#         -P embed.cmake
# Gives `const unsigned char NAME[]` (NUL-terminated) and
# `const size_t NAME_len` (without the NUL).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR len "${digits} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){12})" "\\1\n" body "${body}")
file(WRITE ${OUT}
  "/* Generated from ${IN} by embed.cmake: do not edit. */\n"
  "#include <stddef.h>\n"
  "extern const unsigned char ${NAME}[];\n"
  "extern const size_t ${NAME}_len;\n"
  "const unsigned char ${NAME}[] = {\n${body}0x00};\n"
  "const size_t ${NAME}_len = ${len};\n")
