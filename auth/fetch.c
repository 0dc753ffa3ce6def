/* auth/fetch.c: bounded HTTP(S) GET with libcurl (IdP metadata by URL). */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct body {
    char *data;
    size_t len, max;
    int too_large;
};

static size_t
on_data(char *ptr, size_t size, size_t n, void *ctx)
{
    struct body *b = ctx;
    size_t add = size * n;
    if (add > b->max - b->len) {
        b->too_large = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    char *grown = realloc(b->data, b->len + add + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + b->len, ptr, add);
    b->data = grown;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

char *
fetch_url(const char *url, const char *ca_file, size_t max, long timeout_seconds, size_t *len,
          char *err, size_t errlen)
{
    struct body b = {NULL, 0, max, 0};
    char curl_err[CURL_ERROR_SIZE] = "";
    int https = strncmp(url, "https://", 8) == 0;
    if (!https && strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "the metadata URL must start with https:// or http://");
        return NULL;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, https ? "https" : "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file != NULL && ca_file[0] != '\0')
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);        /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, ""); /* gzip: aggregates compress 10x */
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "Gatehouse metadata fetch");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (b.too_large) {
        snprintf(err, errlen, "the metadata at %.300s is larger than %zu bytes", url, max);
    } else if (rc != CURLE_OK) {
        snprintf(err, errlen, "fetching %.300s failed: %s", url,
                 curl_err[0] ? curl_err : curl_easy_strerror(rc));
    } else if (status != 200) {
        snprintf(err, errlen, "fetching %.300s answered HTTP %ld", url, status);
    } else if (b.data == NULL) {
        snprintf(err, errlen, "the metadata at %.300s is empty", url);
    } else {
        *len = b.len;
        return b.data;
    }
    free(b.data);
    return NULL;
}
