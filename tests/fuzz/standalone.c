/*
 * Runs a libFuzzer target without libFuzzer: every file of the corpus directories given on
 * the command line, smallest first as libFuzzer replays them (so a target's state between
 * inputs is the same on every machine), then seeded mutations of them: 20000, or the
 * target's budget given as `-runs=N` (libFuzzer's flag) where one input costs milliseconds,
 * FUZZ_ITERATIONS overriding both. It is not coverage-guided; it keeps every parser's crash-free contract under the
 * sanitizers in each `meson test`. Long, guided runs use the -Dfuzz=true build (tests/README.md).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	uint8_t *data;
	size_t size;
	char *path;
};

static struct input *inputs;
static size_t n_inputs, cap_inputs;

static void add_input(uint8_t *data, size_t size, const char *path)
{
	if (n_inputs == cap_inputs) {
		cap_inputs = cap_inputs ? cap_inputs * 2 : 64;
		inputs = realloc(inputs, cap_inputs * sizeof(*inputs));
		if (!inputs)
			abort();
	}
	char *copy = strdup(path);
	if (!copy)
		abort();
	inputs[n_inputs++] = (struct input){data, size, copy};
}

static int load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	uint8_t *buf = NULL;
	size_t size = 0, cap = 0;
	for (;;) {
		if (size == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t n = fread(buf + size, 1, cap - size, f);
		if (n == 0)
			break;
		size += n;
	}
	fclose(f);
	add_input(buf, size, path);
	return 0;
}

static int load_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(path);
	DIR *dir = opendir(path);
	if (!dir) {
		perror(path);
		return -1;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		char child[4096];
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		if (load_file(child) != 0)
			rc = -1;
	}
	closedir(dir);
	return rc;
}

static int by_size_then_path(const void *a, const void *b)
{
	const struct input *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* xorshift64*: deterministic across machines, so a failure reproduces from the seed. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t mutate(uint8_t *buf, size_t size, size_t cap)
{
	int rounds = 1 + (int)(rnd() % 4);
	for (int r = 0; r < rounds; r++) {
		switch (rnd() % 6) {
		case 0: /* flip a bit */
			if (size)
				buf[rnd() % size] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1: /* random byte */
			if (size)
				buf[rnd() % size] = (uint8_t)rnd();
			break;
		case 2: /* truncate */
			if (size)
				size = rnd() % size;
			break;
		case 3: /* insert a byte */
			if (size < cap) {
				size_t at = size ? rnd() % (size + 1) : 0;
				memmove(buf + at + 1, buf + at, size - at);
				buf[at] = (uint8_t)rnd();
				size++;
			}
			break;
		case 4: /* interesting values */
			if (size) {
				static const uint8_t vals[] = {0x00, 0x01, 0x7F, 0x80, 0xFF, 0x1B, 0x1D, 0x10, '\n', '"'};
				buf[rnd() % size] = vals[rnd() % sizeof(vals)];
			}
			break;
		case 5: /* duplicate a chunk */
			if (size && size < cap) {
				size_t from = rnd() % size;
				size_t len = 1 + rnd() % (size - from);
				if (len > cap - size)
					len = cap - size;
				size_t at = rnd() % (size + 1);
				memmove(buf + at + len, buf + at, size - at);
				memmove(buf + at, buf + from + (from >= at ? len : 0), len);
				size += len;
			}
			break;
		}
	}
	return size;
}

int main(int argc, char **argv)
{
	long iterations = 20000;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "-runs=", 6) == 0) {
			char *end;
			iterations = strtol(argv[i] + 6, &end, 10);
			if (*end || iterations < 0) {
				fprintf(stderr, "%s: bad %s\n", argv[0], argv[i]);
				return 2;
			}
			continue;
		}
		if (load_path(argv[i]) != 0)
			return 1;
	}
	if (n_inputs == 0) {
		/* An empty input, but a real pointer: libFuzzer never passes NULL. */
		uint8_t *empty = malloc(1);
		if (!empty)
			abort();
		add_input(empty, 0, "");
	}
	/* Directory order differs between file systems; a bug that needs a fresh target (an
	 * empty text first) must replay the same everywhere. */
	qsort(inputs, n_inputs, sizeof(*inputs), by_size_then_path);

	for (size_t i = 0; i < n_inputs; i++)
		LLVMFuzzerTestOneInput(inputs[i].data, inputs[i].size);

	const char *env = getenv("FUZZ_ITERATIONS");
	if (env)
		iterations = strtol(env, NULL, 10);
	const char *seed = getenv("FUZZ_SEED");
	if (seed)
		rng_state = strtoull(seed, NULL, 0) | 1;

	enum { CAP = 8192 };
	uint8_t *buf = malloc(CAP);
	if (!buf)
		abort();
	for (long it = 0; it < iterations; it++) {
		const struct input *in = &inputs[rnd() % n_inputs];
		size_t size = in->size < CAP ? in->size : CAP;
		if (size)
			memcpy(buf, in->data, size);
		size = mutate(buf, size, CAP);
		/* Exact-size copy so ASan sees any read past the end. */
		uint8_t *exact = malloc(size ? size : 1);
		if (!exact)
			abort();
		if (size)
			memcpy(exact, buf, size);
		LLVMFuzzerTestOneInput(exact, size);
		free(exact);
	}
	printf("%zu corpus inputs, %ld mutations: no crash\n", n_inputs, iterations);
	free(buf);
	for (size_t i = 0; i < n_inputs; i++) {
		free(inputs[i].data);
		free(inputs[i].path);
	}
	free(inputs);
	return 0;
}
