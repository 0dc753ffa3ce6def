/* tests/unit/test_smtp.c: the reset e-mail as it goes on the wire: headers, CRLF line ends,
 * encoded subjects, and refusals of anything that could inject a header. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/reset.h"
#include "auth/smtp.h"

/* 2026-11-23 09:56:02 UTC, a Monday. */
#define NOW ((time_t)1795427762)

static char *
message(const char *to, const char *subject, const char *body)
{
    return smtp_message("gatehouse@example.com", to, subject, body, NOW);
}

static void
test_headers_then_a_blank_line_then_the_body(void **state)
{
    (void)state;
    char *m = message("ada@example.com", "Reset your Gatehouse password", "Hello\nlink\n");
    assert_non_null(m);
    assert_non_null(strstr(m, "From: Gatehouse <gatehouse@example.com>\r\n"));
    assert_non_null(strstr(m, "\r\nTo: <ada@example.com>\r\n"));
    assert_non_null(strstr(m, "\r\nSubject: Reset your Gatehouse password\r\n"));
    assert_non_null(strstr(m, "\r\nDate: Mon, 23 Nov 2026 09:56:02 +0000\r\n"));
    assert_non_null(strstr(m, "\r\nMessage-ID: <"));
    assert_non_null(strstr(m, ".1795427762@example.com>\r\n"));
    assert_non_null(strstr(m, "\r\nMIME-Version: 1.0\r\n"));
    assert_non_null(strstr(m, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    assert_non_null(strstr(m, "\r\nContent-Transfer-Encoding: 7bit\r\n"));
    const char *body = strstr(m, "\r\n\r\n");
    assert_non_null(body);
    assert_string_equal(body, "\r\n\r\nHello\r\nlink\r\n");
    free(m);
}

static void
test_every_line_end_becomes_crlf(void **state)
{
    (void)state;
    char *m = message("a@example.com", "s", "a\r\nb\nc\rd");
    assert_non_null(m);
    assert_string_equal(strstr(m, "\r\n\r\n"), "\r\n\r\na\r\nb\r\nc\r\nd\r\n");
    for (const char *p = m; *p; p++)
        if (*p == '\n')
            assert_true(p > m && p[-1] == '\r');
    free(m);
}

static void
test_utf8_subject_is_encoded_and_utf8_body_is_8bit(void **state)
{
    (void)state;
    char *m = message("a@example.com", "R\xc3\xa9initialiser", "Bonjour \xc3\xa9t\xc3\xa9\n");
    assert_non_null(m);
    assert_non_null(strstr(m, "\r\nSubject: =?UTF-8?B?UsOpaW5pdGlhbGlzZXI=?=\r\n"));
    assert_non_null(strstr(m, "\r\nContent-Transfer-Encoding: 8bit\r\n"));
    free(m);
    /* 30 two-byte characters: a first word of 19 (38 bytes), then one of 11; no line over 78. */
    char subject[61];
    for (int i = 0; i < 30; i++)
        memcpy(subject + 2 * i, "\xc3\xa9", 2);
    subject[60] = '\0';
    m = message("a@example.com", subject, "b");
    assert_non_null(m);
    const char *s = strstr(m, "\r\nSubject: =?UTF-8?B?");
    assert_non_null(s);
    assert_non_null(strstr(s, "?=\r\n =?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqQ==?=\r\nDate: "));
    for (const char *line = m; line != NULL; line = strstr(line, "\r\n")) {
        line += line == m ? 0 : 2;
        const char *end = strstr(line, "\r\n");
        assert_true(end == NULL || end - line <= 78);
        if (end == NULL)
            break;
        line = end;
    }
    free(m);
}

static void
test_header_injection_is_refused(void **state)
{
    (void)state;
    assert_null(message("a@example.com\r\nBcc: evil@example.com", "s", "b"));
    assert_null(message("a@example.com", "s\r\nBcc: evil@example.com", "b"));
    assert_null(message("a@example.com", "s\nX: y", "b"));
    assert_null(smtp_message("g@example.com\n", "a@example.com", "s", "b", NOW));
    assert_null(message("", "s", "b"));
    assert_null(message("a@example.com", "", "b"));
    assert_null(message("a@example.com", "s", "nul \x01 control"));
    assert_null(message("a@example.com", "s", "bad utf-8 \xc3"));
    assert_null(smtp_message("no-at-sign", "a@example.com", "s", "b", NOW));
}

static void
test_overlong_lines_and_bodies_are_refused(void **state)
{
    (void)state;
    char *line = malloc(1000);
    assert_non_null(line);
    memset(line, 'x', 999);
    line[999] = '\0';
    assert_null(message("a@example.com", "s", line));
    line[998] = '\0'; /* RFC 5322 2.1.1: 998 characters fit */
    char *m = message("a@example.com", "s", line);
    assert_non_null(m);
    free(m);
    free(line);
    char *big = malloc(SMTP_BODY_MAX + 2);
    assert_non_null(big);
    for (size_t i = 0; i <= SMTP_BODY_MAX; i++)
        big[i] = i % 80 == 79 ? '\n' : 'x';
    big[SMTP_BODY_MAX + 1] = '\0';
    assert_null(message("a@example.com", "s", big));
    free(big);
}

static void
test_reset_mail_names_the_account_and_the_link(void **state)
{
    (void)state;
    char *body = reset_mail_body(
        "ada@example.com", "https://gh.example.com/password/reset?token=abc", "192.0.2.1", NOW);
    assert_non_null(body);
    assert_non_null(strstr(body, "ada@example.com"));
    assert_non_null(strstr(body, "\n\nhttps://gh.example.com/password/reset?token=abc\n\n"));
    assert_non_null(strstr(body, "30 minutes"));
    assert_non_null(strstr(body, "192.0.2.1"));
    char *m = message("ada@example.com", "Reset", body);
    assert_non_null(m);
    free(m);
    free(body);
}

static void
test_each_refused_link_has_a_status_and_a_sentence(void **state)
{
    (void)state;
    assert_int_equal(reset_link_status(RESET_LINK_INVALID), 400);
    assert_int_equal(reset_link_status(RESET_LINK_EXPIRED), 410);
    assert_int_equal(reset_link_status(RESET_LINK_USED), 410);
    assert_int_equal(reset_link_status(RESET_LINK_LOCKED), 429);
    assert_int_equal(reset_link_status(RESET_LINK_ERROR), 500);
    for (int v = RESET_LINK_INVALID; v <= RESET_LINK_ERROR; v++) {
        assert_true(reset_link_status((enum reset_link)v) >= 400);
        assert_true(strlen(reset_link_text((enum reset_link)v)) > 20);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers_then_a_blank_line_then_the_body),
        cmocka_unit_test(test_every_line_end_becomes_crlf),
        cmocka_unit_test(test_utf8_subject_is_encoded_and_utf8_body_is_8bit),
        cmocka_unit_test(test_header_injection_is_refused),
        cmocka_unit_test(test_overlong_lines_and_bodies_are_refused),
        cmocka_unit_test(test_reset_mail_names_the_account_and_the_link),
        cmocka_unit_test(test_each_refused_link_has_a_status_and_a_sentence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
