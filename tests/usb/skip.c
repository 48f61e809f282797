/* Built instead of the USB tests when umockdev is missing: reports skip, never pass. */
#include <stdio.h>

int main(void)
{
	printf("skip: umockdev-1.0 not found (install libumockdev-dev and umockdev)\n");
	return 77;
}
