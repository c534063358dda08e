/* rules_dir.h: temporary rule directories for the rules host's tests:
 * copies of the default rules/ with one file edited, and the small text
 * helpers the tests use to say where an error must point.
 *
 * Depends on: cmocka (a helper that cannot do its work fails the test).
 */
#ifndef RTCBILL_TEST_RULES_DIR_H
#define RTCBILL_TEST_RULES_DIR_H

#include <stddef.h>

/* The five rule files, in the host's fixed order. */
extern const char *const rules_files[5];

/* The whole file at path, NUL-terminated (free it); *len if not NULL. */
char *rules_read(const char *path, size_t *len);
/* The default rules/<file> (free it). */
char *rules_default_text(const char *file);
/* text with the first `from` replaced by `to`, or `to` appended when from
 * is NULL (free it). */
char *rules_edit(const char *text, const char *from, const char *to);
/* The 1-based line of the first `needle` in text. */
int rules_line_of(const char *text, const char *needle);
/* The line a text appended to text would start on. */
int rules_line_after(const char *text);

/* Makes a new directory /tmp/<prefix>-XXXXXX (into dir, cap >= 64) with
 * the default rules, `file` replaced by `text` (file NULL: unchanged). */
void rules_make_dir(char *dir, size_t cap, const char *prefix,
                    const char *file, const char *text);
/* Removes such a directory (and editors' *.tmp leftovers); "" is a no-op. */
void rules_remove_dir(const char *dir);

#endif /* RTCBILL_TEST_RULES_DIR_H */
