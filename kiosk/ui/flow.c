/* The column layout (flow.h). */
#include "flow.h"

#include <stdint.h>

int ui_flow_column(struct ui_flow_item *items, size_t n, int top, int bottom, int gap)
{
	int64_t room = (int64_t)bottom - top - (n > 1 ? (int64_t)gap * (int64_t)(n - 1) : 0);
	int64_t sum_min = 0, range = 0;
	size_t fills = 0;
	for (size_t i = 0; i < n; i++) {
		sum_min += items[i].min;
		if (items[i].pref == UI_FLOW_FILL)
			fills++;
		else if (items[i].pref > items[i].min)
			range += items[i].pref - items[i].min;
	}
	int64_t extra = room - sum_min;
	int rc = extra < 0 ? KIO_ERR_INVALID : 0;
	if (extra < 0)
		extra = 0;
	int64_t grow = extra < range ? extra : range;
	int64_t left = extra - grow, fill_seen = 0;
	int64_t y = top;
	for (size_t i = 0; i < n; i++) {
		struct ui_flow_item *it = &items[i];
		int64_t h = it->min;
		if (it->pref == UI_FLOW_FILL) {
			/* The last fill takes the remainder of the division. */
			fill_seen++;
			h += fill_seen == (int64_t)fills ? left - (left / (int64_t)fills) * (int64_t)(fills - 1)
							 : left / (int64_t)fills;
		} else if (it->pref > it->min && range > 0) {
			int64_t share = (it->pref - it->min) * grow / range;
			h += share;
		}
		it->y = (int)y;
		it->h = (int)h;
		y += h + gap;
	}
	return rc;
}
