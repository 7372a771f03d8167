/*
 * fz_image.h - what the image fuzz targets share (fz_image.c): making a
 * mutated image checksum-correct, mutating it the way an attacker would
 * (hostile values in well-formed records), and valid seed images.
 */
#ifndef CKPT_FZ_IMAGE_H
#define CKPT_FZ_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Recomputes every checksum the input's own lengths let it find (header,
 * records, MPAGES data, END's image crc) and END's record and byte
 * counts: a mutation of a record's contents otherwise dies at its
 * checksum before any checker sees it.
 */
void fz_fixup(unsigned char *b, size_t size);

/*
 * libFuzzer's custom mutator for images: often libFuzzer's own mutation,
 * otherwise one hostile change to a well-formed image — a field of a
 * record set to a boundary value (0, -1, INT_MIN/MAX, ~0, a huge or
 * page-aligned address, uid 0, a full capability set, another record's
 * id or tid), a record duplicated, dropped or swapped with its neighbour
 * — and then fz_fixup, so the result passes every checksum.
 */
size_t fz_mutate(uint8_t *data, size_t size, size_t max, unsigned seed);

/* Writes valid seed images into dir (FUZZ_SEED_DIR). */
void fz_seeds(const char *dir);

#endif
