/*
 * One face for the three byte-level device models (eSSP validator, ESC/POS printer, Evolis
 * card printer), so the in-process transport and the umockdev USB emulation serve any of them
 * the same way. The adapters borrow the model; its owner keeps driving it directly (insert a
 * note, raise a fault) through the model's own header.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_essp;
struct sim_escpos;
struct sim_evolis;

struct sim_model_ops {
	/* Host -> device. *accepted < len when the device refuses more for now (a full receive
	 * buffer: a USB NAK); the caller offers the rest again later. 0; KIO_ERR_NO_DEVICE while
	 * unplugged (nothing taken); KIO_ERR_PROTOCOL when the device rejected something in the
	 * chunk (all of it still taken, as a device's parser consumes and resynchronises). */
	int (*write)(void *dev, const uint8_t *buf, size_t len, size_t *accepted, uint64_t now_ms);
	/* Device -> host: up to cap pending reply bytes, after letting time reach now_ms. */
	size_t (*read)(void *dev, uint8_t *buf, size_t cap, uint64_t now_ms);
	/* Lets the model's own timers run (the validator's escrow timeout) with no host traffic. */
	void (*tick)(void *dev, uint64_t now_ms);
	bool (*connected)(const void *dev);
};

struct sim_model {
	const struct sim_model_ops *ops;
	void *dev;
	const char *kind; /* "essp", "escpos", "evolis" */
};

/* Each fills *out with an adapter borrowing dev. */
void sim_model_essp(struct sim_model *out, struct sim_essp *dev);
void sim_model_escpos(struct sim_model *out, struct sim_escpos *dev);
void sim_model_evolis(struct sim_model *out, struct sim_evolis *dev);
