/* test_arena.c: the bump allocator's alignment, chunking and accounting.
 * Depends on: core/arena.c, cmocka. */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "rtcbill.h"

#define ALIGN (alignof(max_align_t))

static int aligned(const void *p) { return (uintptr_t)p % ALIGN == 0; }

static void test_alloc_is_max_aligned(void **state) {
  (void)state;
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  const size_t sizes[] = {1, 3, 7, 8, 9, 17, 100, 1, 2};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    void *p = rb_arena_alloc(a, sizes[i]);
    assert_non_null(p);
    assert_true(aligned(p));
  }
  rb_arena_free(a);
}

static void test_alloc_counts_used_bytes(void **state) {
  (void)state;
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  assert_int_equal(rb_arena_used(a), 0);
  assert_non_null(rb_arena_alloc(a, 1));
  assert_int_equal(rb_arena_used(a), ALIGN);
  assert_non_null(rb_arena_alloc(a, 2 * ALIGN));
  assert_int_equal(rb_arena_used(a), 3 * ALIGN);
  assert_non_null(rb_arena_alloc(a, 200000));
  assert_int_equal(rb_arena_used(a), 3 * ALIGN + 200000);
  rb_arena_free(a);
}

static void test_alloc_zero_gives_distinct_pointers(void **state) {
  (void)state;
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  void *p = rb_arena_alloc(a, 0);
  void *q = rb_arena_alloc(a, 0);
  assert_non_null(p);
  assert_non_null(q);
  assert_ptr_not_equal(p, q);
  rb_arena_free(a);
}

static void test_alloc_blocks_do_not_overlap(void **state) {
  (void)state;
  /* 5000 blocks of 37 bytes span several 64 KiB chunks; each is filled
   * with its own byte and checked once all are handed out. */
  enum { N = 5000, SIZE = 37 };
  static unsigned char *blocks[N];
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  for (int i = 0; i < N; i++) {
    blocks[i] = rb_arena_alloc(a, SIZE);
    assert_non_null(blocks[i]);
    assert_true(aligned(blocks[i]));
    memset(blocks[i], i & 0xff, SIZE);
  }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < SIZE; j++)
      assert_int_equal(blocks[i][j], i & 0xff);
  rb_arena_free(a);
}

static void test_alloc_large_request_keeps_chunk(void **state) {
  (void)state;
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  char *small1 = rb_arena_alloc(a, ALIGN);
  assert_non_null(small1);
  size_t big_size = (size_t)1 << 20;
  char *big = rb_arena_alloc(a, big_size);
  assert_non_null(big);
  assert_true(aligned(big));
  memset(big, 0xab, big_size);
  /* The chunk small1 came from still has room: the next small block
   * follows it directly instead of starting a new chunk. */
  char *small2 = rb_arena_alloc(a, ALIGN);
  assert_ptr_equal(small2, small1 + ALIGN);
  assert_int_equal((unsigned char)big[big_size - 1], 0xab);
  rb_arena_free(a);
}

static void test_alloc_large_first(void **state) {
  (void)state;
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  char *big = rb_arena_alloc(a, 300000);
  assert_non_null(big);
  memset(big, 1, 300000);
  char *small = rb_arena_alloc(a, 10);
  assert_non_null(small);
  memset(small, 2, 10);
  assert_int_equal(big[299999], 1);
  rb_arena_free(a);
}

static void test_alloc_refuses_impossible_sizes(void **state) {
  (void)state;
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  assert_null(rb_arena_alloc(a, SIZE_MAX));
  assert_null(rb_arena_alloc(a, SIZE_MAX - ALIGN));
  assert_null(rb_arena_strndup(a, "x", SIZE_MAX));
  assert_int_equal(rb_arena_used(a), 0);
  rb_arena_free(a);
}

static void test_strndup_copies_prefix(void **state) {
  (void)state;
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  const char *src = "hello world";
  char *s = rb_arena_strndup(a, src, 5);
  assert_non_null(s);
  assert_ptr_not_equal(s, src);
  assert_string_equal(s, "hello");
  char *e = rb_arena_strndup(a, src, 0);
  assert_non_null(e);
  assert_string_equal(e, "");
  char *n = rb_arena_strndup(a, NULL, 0);
  assert_non_null(n);
  assert_string_equal(n, "");
  /* Bytes after an embedded NUL are copied too: len rules. */
  char *z = rb_arena_strndup(a, "a\0b", 3);
  assert_non_null(z);
  assert_int_equal(z[2], 'b');
  assert_int_equal(z[3], '\0');
  rb_arena_free(a);
}

static void test_chunks_grow_with_the_arena(void **state) {
  (void)state;
  /* 40 MB in 1000-byte blocks: with 64 KiB chunks only that would be
   * 640 chunks; growing chunks (an eighth of the arena, up to 8 MiB)
   * make it a few dozen. A new chunk shows as a block that does not
   * follow the one before. Every block keeps its own bytes. */
  enum { N = 40000, SIZE = 1000 };
  static unsigned char *blocks[N];
  rb_arena *a = rb_arena_new();
  assert_non_null(a);
  size_t chunks = 0;
  for (int i = 0; i < N; i++) {
    blocks[i] = rb__arena_alloc8(a, SIZE);
    assert_non_null(blocks[i]);
    if (i == 0 || blocks[i] != blocks[i - 1] + SIZE)
      chunks++;
    memset(blocks[i], i & 0xff, SIZE);
  }
  assert_int_equal(rb_arena_used(a), (size_t)N * SIZE);
  assert_true(chunks >= 10);
  assert_true(chunks <= 60);
  for (int i = 0; i < N; i += 97) {
    assert_int_equal(blocks[i][0], i & 0xff);
    assert_int_equal(blocks[i][SIZE - 1], i & 0xff);
  }
  rb_arena_free(a);
}

static void test_free_accepts_null(void **state) {
  (void)state;
  rb_arena_free(NULL);
  assert_int_equal(rb_arena_used(NULL), 0);
  assert_null(rb_arena_alloc(NULL, 8));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_is_max_aligned),
      cmocka_unit_test(test_alloc_counts_used_bytes),
      cmocka_unit_test(test_alloc_zero_gives_distinct_pointers),
      cmocka_unit_test(test_alloc_blocks_do_not_overlap),
      cmocka_unit_test(test_alloc_large_request_keeps_chunk),
      cmocka_unit_test(test_alloc_large_first),
      cmocka_unit_test(test_alloc_refuses_impossible_sizes),
      cmocka_unit_test(test_strndup_copies_prefix),
      cmocka_unit_test(test_chunks_grow_with_the_arena),
      cmocka_unit_test(test_free_accepts_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
