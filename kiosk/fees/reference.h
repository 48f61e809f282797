/* The check digits a fee's reference may carry (catalogue.h's cat_ref_check), over a string of
 * ASCII digits; shared by the catalogue's reference check and its tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Each is false for n == 0 or a byte that is not an ASCII digit. */
bool fees_luhn_ok(const char *digits, size_t n);   /* ISO/IEC 7812-1 annex B */
bool fees_mod97_ok(const char *digits, size_t n);  /* ISO 7064 MOD 97-10: the number mod 97 is 1 */
bool fees_damm_ok(const char *digits, size_t n);   /* the Damm quasigroup of order 10 ends at 0 */
