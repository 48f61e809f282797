#include "kiosk/text/text.h"
int main(int argc, char **argv) { return text_layout_tool_main(argc - 1, argv + 1); }
