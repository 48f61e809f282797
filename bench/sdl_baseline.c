/*
 * The start-up baseline for bench/startup: what any SDL program pays to open the kiosk's
 * window with a software renderer and present one cleared frame, then idle in SDL_WaitEvent.
 */
#include <SDL2/SDL.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc < 2 || SDL_Init(SDL_INIT_VIDEO) != 0)
		return 1;
	SDL_Window *w = SDL_CreateWindow("baseline", 0, 0, 1080, 1920, 0);
	SDL_Renderer *r = w ? SDL_CreateRenderer(w, -1, 0) : NULL;
	if (!r)
		return 1;
	SDL_SetRenderDrawColor(r, 0xF3, 0xF5, 0xF4, 0xFF);
	SDL_RenderClear(r);
	SDL_RenderPresent(r);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	FILE *f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "first_frame_monotonic_ns %lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	fclose(f);
	SDL_Event ev;
	while (SDL_WaitEvent(&ev))
		if (ev.type == SDL_QUIT)
			break;
	SDL_Quit();
	return 0;
}
