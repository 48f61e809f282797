/*
 * The shaped-layout cache: (text, style) to layout, LRU, bounded by
 * TEXT_LAYOUT_CACHE_ENTRIES entries and TEXT_LAYOUT_CACHE_BYTES of layouts, so a static
 * screen shapes nothing per frame and a scrolling one cannot grow memory without end.
 */
#define LOG_MODULE "text"
#include <stdlib.h>
#include <string.h>

#include "kiosk/core/log.h"
#include "kiosk/core/xmalloc.h"
#include "kiosk/text/text-priv.h"

struct layout_entry {
	struct layout_entry *chain;       /* bucket */
	struct layout_entry *prev, *next; /* LRU, head = most recent */
	uint64_t hash;
	struct text_layout *layout;       /* owns the text copy the key compares with */
};

static uint64_t key_hash(const char *s, size_t len, const struct text_style *st)
{
	/* FNV-1a: short strings, no adversary worth a keyed hash (the text is ours). */
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	int32_t f[5] = {st->size_px, st->bold, (int32_t)st->dir, (int32_t)st->align, st->max_width};
	for (int i = 0; i < 5; i++)
		h = (h ^ (uint32_t)f[i]) * 0x100000001b3ull;
	return h;
}

static bool key_equal(const struct text_layout *l, const char *s, size_t len,
		      const struct text_style *st)
{
	const struct text_style *k = &l->asked;
	return l->text_len == len && k->size_px == st->size_px && k->bold == st->bold &&
	       k->dir == st->dir && k->align == st->align && k->max_width == st->max_width &&
	       memcmp(l->text, s, len) == 0;
}

void text_layout_cache_init(struct layout_cache *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->n_buckets = 1024; /* power of two, twice the entry bound */
	lc->buckets = xcalloc(lc->n_buckets, sizeof(*lc->buckets));
	/* One more than the bound: a new entry goes in before the LRU one is evicted. */
	lc->pool = xcalloc(TEXT_LAYOUT_CACHE_ENTRIES + 1, sizeof(*lc->pool));
	for (size_t i = 0; i <= TEXT_LAYOUT_CACHE_ENTRIES; i++) {
		lc->pool[i].chain = lc->free_entries;
		lc->free_entries = &lc->pool[i];
	}
}

void text_layout_cache_fini(struct layout_cache *lc)
{
	text_layout_cache_clear(lc);
	for (int k = 0; k <= TEXT_LAYOUT_BLOCK_MAX_SHIFT; k++) {
		while (lc->spare[k]) {
			void *next = *(void **)lc->spare[k];
			free(lc->spare[k]);
			lc->spare[k] = next;
		}
	}
	lc->spare_bytes = 0;
	free(lc->buckets);
	free(lc->pool);
	lc->buckets = NULL;
	lc->pool = NULL;
}

/* log2 of the block that holds bytes, or -1 above the largest block. */
static int block_shift(size_t bytes)
{
	int k = TEXT_LAYOUT_BLOCK_MIN_SHIFT;
	while (k <= TEXT_LAYOUT_BLOCK_MAX_SHIFT && ((size_t)1 << k) < bytes)
		k++;
	return k <= TEXT_LAYOUT_BLOCK_MAX_SHIFT ? k : -1;
}

void *text_layout_block_get(struct layout_cache *lc, size_t bytes, size_t *cap)
{
	int k = block_shift(bytes);
	if (k < 0) {
		*cap = bytes;
		return xmalloc(bytes);
	}
	/* A spare up to four times larger beats a trip to the heap. */
	for (int j = k; j <= k + 2 && j <= TEXT_LAYOUT_BLOCK_MAX_SHIFT; j++) {
		if (lc->spare[j]) {
			void *b = lc->spare[j];
			lc->spare[j] = *(void **)b;
			lc->spare_bytes -= (size_t)1 << j;
			*cap = (size_t)1 << j;
			return b;
		}
	}
	*cap = (size_t)1 << k;
	return xmalloc(*cap);
}

void text_layout_block_put(struct layout_cache *lc, struct text_layout *l)
{
	int k = block_shift(l->cap);
	if (!l->pooled || k < 0 || ((size_t)1 << k) != l->cap ||
	    lc->spare_bytes + l->cap > TEXT_LAYOUT_SPARE_BYTES) {
		free(l);
		return;
	}
	*(void **)l = lc->spare[k];
	lc->spare[k] = l;
	lc->spare_bytes += l->cap;
}

static void lru_unlink(struct layout_cache *lc, struct layout_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		lc->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		lc->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct layout_cache *lc, struct layout_entry *e)
{
	e->prev = NULL;
	e->next = lc->lru_head;
	if (lc->lru_head)
		lc->lru_head->prev = e;
	lc->lru_head = e;
	if (!lc->lru_tail)
		lc->lru_tail = e;
}

static void entry_drop(struct layout_cache *lc, struct layout_entry *e)
{
	struct layout_entry **pp = &lc->buckets[e->hash & (lc->n_buckets - 1)];
	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	lru_unlink(lc, e);
	lc->count--;
	lc->bytes -= e->layout->cap;
	text_layout_block_put(lc, e->layout);
	e->layout = NULL;
	e->chain = lc->free_entries;
	lc->free_entries = e;
}

void text_layout_cache_clear(struct layout_cache *lc)
{
	while (lc->lru_tail)
		entry_drop(lc, lc->lru_tail);
}

/* Styles are normalised the same way the builder clamps them, so keys match. */
const struct text_layout *text_layout_cache_get(struct text_engine *engine, const char *utf8,
						size_t len, const struct text_style *style)
{
	struct layout_cache *lc = &engine->lc;
	uint64_t h = key_hash(utf8, len, style);
	struct layout_entry *e = lc->buckets[h & (lc->n_buckets - 1)];

	for (; e; e = e->chain) {
		if (e->hash == h && key_equal(e->layout, utf8, len, style) &&
		    e->layout->font_gen == engine->font_gen) {
			lc->hits++;
			if (lc->lru_head != e) {
				lru_unlink(lc, e);
				lru_push(lc, e);
			}
			return e->layout;
		}
	}
	lc->misses++;
	struct text_layout *l = text_layout_build(engine, utf8, len, style, lc);
	if (!l)
		return NULL;
	/* The key is the style as asked for, not as clamped. */
	l->asked = *style;
	/* The pool has one entry more than the bound, and the bound holds after each miss. */
	e = lc->free_entries;
	lc->free_entries = e->chain;
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->layout = l;
	struct layout_entry **bucket = &lc->buckets[h & (lc->n_buckets - 1)];
	e->chain = *bucket;
	*bucket = e;
	lru_push(lc, e);
	lc->count++;
	lc->bytes += l->cap;
	/* Never evict the entry just made: the caller borrows it. */
	while (lc->lru_tail != e &&
	       (lc->count > TEXT_LAYOUT_CACHE_ENTRIES || lc->bytes > TEXT_LAYOUT_CACHE_BYTES))
		entry_drop(lc, lc->lru_tail);
	return l;
}

const struct text_layout *text_layout(struct text_engine *engine, const char *utf8,
				      const struct text_style *style)
{
	if (!engine || !style)
		return NULL;
	return text_layout_cache_get(engine, utf8 ? utf8 : "", utf8 ? strlen(utf8) : 0, style);
}
