#include "ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rand.h"

#define WAYS 8 /* an address may sit in any of the 8 slots of its set */
#define KEY_MAX 48

struct slot {
    char key[KEY_MAX]; /* "" = free */
    double tokens;
    time_t last; /* when tokens was last brought up to date */
};

struct ratelimit {
    pthread_mutex_t mu;
    double per_second, burst;
    uint64_t seed; /* keyed hash: where an address lands cannot be chosen from outside */
    struct slot slots[RATELIMIT_SLOTS];
};

struct ratelimit *
ratelimit_new(long per_minute)
{
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (rl == NULL)
        return NULL;
    pthread_mutex_init(&rl->mu, NULL);
    rl->burst = (double)per_minute;
    rl->per_second = (double)per_minute / 60.0;
    if (rand_bytes(&rl->seed, sizeof rl->seed) != 0)
        rl->seed = (uint64_t)(uintptr_t)rl; /* still a table, only easier to aim at */
    return rl;
}

void
ratelimit_set_rate(struct ratelimit *rl, long per_minute)
{
    pthread_mutex_lock(&rl->mu);
    rl->burst = (double)per_minute;
    rl->per_second = (double)per_minute / 60.0;
    pthread_mutex_unlock(&rl->mu);
}

void
ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

/* FNV-1a over the seed and the key, folded with a multiply (splitmix64's finaliser). */
static size_t
set_of(const struct ratelimit *rl, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull ^ rl->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
    return (size_t)(h % (RATELIMIT_SLOTS / WAYS)) * WAYS;
}

/* key's slot with its tokens brought up to now: found, or a free or evicted one made full. */
static struct slot *
find(struct ratelimit *rl, const char *key, time_t now)
{
    struct slot *set = &rl->slots[set_of(rl, key)], *victim = &set[0];
    for (int i = 0; i < WAYS; i++) {
        struct slot *s = &set[i];
        if (strcmp(s->key, key) == 0) {
            double t = s->tokens + (double)(now > s->last ? now - s->last : 0) * rl->per_second;
            s->tokens = t > rl->burst ? rl->burst : t;
            s->last = now;
            return s;
        }
        if (victim->key[0] != '\0' && (s->key[0] == '\0' || s->last < victim->last))
            victim = s;
    }
    size_t n = strlen(key);
    if (n >= KEY_MAX)
        n = KEY_MAX - 1;
    memcpy(victim->key, key, n);
    victim->key[n] = '\0';
    victim->tokens = rl->burst;
    victim->last = now;
    return victim;
}

long
ratelimit_take(struct ratelimit *rl, const char *key, time_t now)
{
    pthread_mutex_lock(&rl->mu);
    struct slot *s = find(rl, key, now);
    long wait = 0;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
    } else {
        wait = (long)((1.0 - s->tokens) / rl->per_second) + 1;
    }
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

void
ratelimit_give(struct ratelimit *rl, const char *key, time_t now)
{
    pthread_mutex_lock(&rl->mu);
    struct slot *s = find(rl, key, now);
    s->tokens = s->tokens + 1.0 > rl->burst ? rl->burst : s->tokens + 1.0;
    pthread_mutex_unlock(&rl->mu);
}
