/* mc_split_run.h - run the milter client's splitter over a buffer in pieces, render its events (tests, fuzzing). */
#ifndef POSTERN_MC_SPLIT_RUN_H
#define POSTERN_MC_SPLIT_RUN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Feed p[0..n) in pieces of at most piece bytes, then end the data, and
 * render every event: "[H name|value]" ("[H* ...]" when cut), "[E]",
 * "[B chunk]", with CR, LF and NUL as \r, \n, \0. Returns the malloc'd
 * text, or NULL when the splitter broke a rule it promises (no progress,
 * an event out of order, a field or chunk over its bound, no end), with
 * the reason in why.
 */
char *mc_split_run(const uint8_t *p, size_t n, size_t piece, size_t field_max, size_t chunk_max,
    const char **why);

#endif
