/*
 * What each frame cost in CPU: the page's rebuild, its drawing and its present, counted on
 * the UI thread's CPU clock, kept as count, total, maximum and a histogram for the median and
 * the 99th percentile, and written to the --startup-report file at exit (bench/appliance.sh).
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

enum { UI_FRAMES_BUCKET_NS = 10000, UI_FRAMES_BUCKETS = 10000 }; /* 10 µs steps up to 100 ms */

struct ui_frames {
	uint64_t n, total_ns, max_ns;
	uint64_t pending_ns; /* rebuilds since the last frame, counted into the next one */
	uint32_t hist[UI_FRAMES_BUCKETS + 1]; /* the last: 100 ms and over */
};

/* The calling thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID). */
uint64_t ui_frames_cpu_ns(void);
/* Work for the next frame (a page rebuild) that happens before it is drawn. */
void ui_frames_add_work(struct ui_frames *frames, uint64_t ns);
/* A frame was presented after draw_ns of drawing: records it with the pending work. */
void ui_frames_end(struct ui_frames *frames, uint64_t draw_ns);
/* The q-quantile (0..1) of the recorded frames, at the upper edge of its 10 µs bucket (and
 * never above the maximum); 0 with no frame. */
uint64_t ui_frames_quantile_ns(const struct ui_frames *frames, double q);
/* Appends "frames N", "frame_cpu_us_total", "_median", "_p99", "_max" lines; 0 or -errno. */
int ui_frames_write(const struct ui_frames *frames, FILE *f);
