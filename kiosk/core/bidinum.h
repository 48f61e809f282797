/*
 * The numbers the bidi algorithm would show backwards (the page check's rule 6, kiosk/ui/check.h,
 * and every receipt's text, kiosk/print): one rule for a screen and for paper.
 */
#pragma once

#include <stddef.h>

/*
 * The first "digits-digits" (or "+") in text that the bidi algorithm shows backwards, copied
 * to out (cap bytes, truncated) and returned; NULL for none. After an Arabic letter a European
 * number is an Arabic number (UAX #9, W2), and a "-" or "+" between Arabic numbers stays a
 * neutral (W4 joins them only across a CS such as "/" or ":"), so "2099-12-31" after Arabic
 * reads "31-12-2099"; Arabic-Indic digits are Arabic numbers anywhere. Inside an isolate (LRI,
 * RLI, FSI ... PDI) or an embedding the run is the writer's own. text may be NULL.
 */
const char *core_bidi_reversed_number(const char *text, char *out, size_t cap);
