/* SPDX-License-Identifier: MIT */
#include <stdio.h>
int main(void)
{
	puts("icpheap: under construction");
	return 0;
}
