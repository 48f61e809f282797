/* Per-frame CPU cost: the counters and histogram behind --startup-report's frame lines. */
#include "frames.h"

#include <errno.h>
#include <time.h>

uint64_t ui_frames_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ui_frames_add_work(struct ui_frames *frames, uint64_t ns) { frames->pending_ns += ns; }

void ui_frames_end(struct ui_frames *frames, uint64_t draw_ns)
{
	uint64_t ns = frames->pending_ns + draw_ns;
	frames->pending_ns = 0;
	frames->n++;
	frames->total_ns += ns;
	if (ns > frames->max_ns)
		frames->max_ns = ns;
	uint64_t b = ns / UI_FRAMES_BUCKET_NS;
	frames->hist[b < UI_FRAMES_BUCKETS ? b : UI_FRAMES_BUCKETS]++;
}

uint64_t ui_frames_quantile_ns(const struct ui_frames *frames, double q)
{
	if (frames->n == 0)
		return 0;
	/* The rank of the quantile, 1-based: the frame at or past q of them. */
	uint64_t rank = (uint64_t)(q * (double)frames->n);
	if ((double)rank < q * (double)frames->n || rank == 0)
		rank++;
	uint64_t seen = 0;
	for (uint64_t b = 0; b <= UI_FRAMES_BUCKETS; b++) {
		seen += frames->hist[b];
		if (seen >= rank && b < UI_FRAMES_BUCKETS) {
			uint64_t edge = (b + 1) * UI_FRAMES_BUCKET_NS;
			return edge < frames->max_ns ? edge : frames->max_ns;
		}
	}
	return frames->max_ns;
}

int ui_frames_write(const struct ui_frames *frames, FILE *f)
{
	if (fprintf(f, "frames %llu\nframe_cpu_us_total %llu\nframe_cpu_us_median %llu\nframe_cpu_us_p99 %llu\nframe_cpu_us_max %llu\n",
		    (unsigned long long)frames->n, (unsigned long long)(frames->total_ns / 1000),
		    (unsigned long long)(ui_frames_quantile_ns(frames, 0.5) / 1000),
		    (unsigned long long)(ui_frames_quantile_ns(frames, 0.99) / 1000),
		    (unsigned long long)(frames->max_ns / 1000)) < 0)
		return -EIO;
	return 0;
}
