/* `kiosk sync status` and `kiosk sync push`: the sync's command line (tool.c). */
#pragma once

/* argv[0] is "sync". Exit status: 0 done, 1 the host refused or could not be reached (push),
 * 2 bad arguments or configuration, 3 the database cannot be used. */
int sync_tool_main(int argc, char **argv);
