#include "fds.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

bool fds_reclaim(lua_State *L, int err)
{
	if (err != EMFILE && err != ENFILE)
		return false;
	lua_gc(L, LUA_GCCOLLECT);
	return true;
}

int fds_errno(int err)
{
	int fd;

	if (err == EMFILE || err == ENFILE)
		return err;
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return err;
	}
	return errno == EMFILE || errno == ENFILE ? errno : err;
}
