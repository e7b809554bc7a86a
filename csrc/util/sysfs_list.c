#include "sysfs_list.h"

#include <stdio.h>
#include <stdlib.h>

bool sysfs_list_read(const char *path, unsigned *count, unsigned *end)
{
	FILE *f = fopen(path, "re");
	char buf[1024], *p, *next;
	unsigned long n = 0, last = 0;
	bool any = false;

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	for (p = buf; *p && *p != '\n'; p = *next == ',' ? next + 1 : next) {
		unsigned long lo = strtoul(p, &next, 10), hi = lo;

		if (next == p)
			return false;
		if (*next == '-') {
			p = next + 1;
			hi = strtoul(p, &next, 10);
			if (next == p || hi < lo)
				return false;
		}
		n += hi - lo + 1;
		if (hi >= last)
			last = hi;
		any = true;
	}
	if (!any)
		return false;
	*count = (unsigned)n;
	*end = (unsigned)last + 1;
	return true;
}
