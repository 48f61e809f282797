/*
 * ITL SSP (eSSP) as pure bytes: frames, the stream decoder, command builders, reply and
 * poll-event parsers, and the host's sequence-bit rule. No I/O, no clock, no allocation:
 * the host driver (a state machine over a transport) and the device model both build on it.
 *
 * Sources: GA138 SSP Protocol Manual v2.2 (GA138_2_2_649A) and GA973 SSP Implementation
 * Guide v2.2; notes in shared/research/cash-acceptor.md.
 *
 * Ownership: every function here borrows its buffers and writes only into caller-owned
 * structs; nothing returned needs freeing. Parsers take the frame's DATA field
 * (buf, len) including the leading generic response byte, never read past len, and
 * return 0 or a negative KIO_ERR_* with `err` (may be NULL) saying what and where.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiosk/core/err.h"

/* ---- Transport layer (GA138 "Transport Layer") ---- */

#define ESSP_STX 0x7F
#define ESSP_STEX 0x7E   /* first DATA byte of an encrypted packet (GA138 "Encryption Layer") */
#define ESSP_SEQ_FLAG 0x80
#define ESSP_ADDR_MASK 0x7F
#define ESSP_ADDR_MAX 0x7D
#define ESSP_ADDR_VALIDATOR 0x00 /* banknote validators default to 0 (GA138 "Banknote Validator") */
#define ESSP_DATA_MAX 255
/* STX, then SEQ/ID, LEN, DATA and two CRC bytes, each possibly stuffed to two bytes. */
#define ESSP_WIRE_MAX (1 + 2 * (2 + ESSP_DATA_MAX + 2))

/* Forward CRC-16, poly 0x8005, not reflected, over SEQ/ID..DATA; `seed` is 0xFFFF for SSP. */
uint16_t essp_crc16(uint16_t seed, const uint8_t *buf, size_t len);

/* SEQ/ID byte: the sequence flag in bit 7, the slave address below it. */
static inline uint8_t essp_seqid(uint8_t addr, bool seq_flag)
{
	return (uint8_t)((seq_flag ? ESSP_SEQ_FLAG : 0) | (addr & ESSP_ADDR_MASK));
}

/* A decoded (unstuffed, CRC-checked) frame. */
struct essp_frame {
	uint8_t seqid;
	uint8_t len;
	uint8_t data[ESSP_DATA_MAX];
};

/*
 * Encodes STX SEQ/ID LEN DATA CRCL CRCH with every 0x7F after the STX doubled; the CRC is
 * computed before stuffing (GA138). Writes *out_len bytes to out. KIO_ERR_INVALID if len is
 * 0 or > 255 or cap is too small (ESSP_WIRE_MAX is always enough).
 */
int essp_frame_encode(uint8_t seqid, const uint8_t *data, size_t len, uint8_t *out, size_t cap,
		      size_t *out_len);

/*
 * Incremental decoder for the byte stream from either side. Takes arbitrary chunks.
 * Bytes before an STX are skipped; 0x7F 0x7F inside a frame is one 0x7F; 0x7F followed
 * by anything else inside a frame abandons the partial frame and starts a new one whose
 * SEQ/ID is that byte (GA138, as the ITL SDK's SSPDataIn does). It never buffers more
 * than one frame.
 */
enum essp_dec_state { ESSP_DEC_IDLE, ESSP_DEC_BODY, ESSP_DEC_STUFF, ESSP_DEC_STATE_COUNT };

struct essp_decoder {
	enum essp_dec_state state;
	uint8_t buf[2 + ESSP_DATA_MAX + 2]; /* SEQ/ID LEN DATA CRCL CRCH, unstuffed */
	size_t pos;
	size_t need; /* frame size once LEN is known, else 0 */
	/* Statistics, for logs and tests; they only grow. */
	uint64_t frames;      /* good frames returned */
	uint64_t crc_errors;  /* complete frames whose CRC failed */
	uint64_t skipped;     /* bytes outside any frame */
	uint64_t restarts;    /* partial frames abandoned at an unstuffed 0x7F */
};

enum essp_dec_result {
	ESSP_DEC_MORE,    /* all input consumed, no complete frame yet */
	ESSP_DEC_FRAME,   /* *out holds a good frame; bytes after *used are not consumed yet */
	ESSP_DEC_BAD_CRC, /* a complete frame failed its CRC and was dropped; feed the rest */
};

void essp_decoder_init(struct essp_decoder *d);
/*
 * Consumes bytes from buf until one frame completes or the input ends; *used says how
 * many. Call again with buf + *used for the rest. Never reads past len.
 */
enum essp_dec_result essp_decoder_feed(struct essp_decoder *d, const uint8_t *buf, size_t len,
				       size_t *used, struct essp_frame *out);
/* True while a frame is partly received (the host uses it to tell silence from a stall). */
bool essp_decoder_busy(const struct essp_decoder *d);

/* ---- Commands (GA138 command tables; NV9USB command table) ---- */

enum essp_cmd_code {
	ESSP_CMD_RESET = 0x01,
	ESSP_CMD_SET_INHIBITS = 0x02,
	ESSP_CMD_DISPLAY_ON = 0x03,
	ESSP_CMD_DISPLAY_OFF = 0x04,
	ESSP_CMD_SETUP_REQUEST = 0x05,
	ESSP_CMD_HOST_PROTOCOL_VERSION = 0x06,
	ESSP_CMD_POLL = 0x07,
	ESSP_CMD_REJECT = 0x08,
	ESSP_CMD_DISABLE = 0x09,
	ESSP_CMD_ENABLE = 0x0A,
	ESSP_CMD_GET_SERIAL = 0x0C,
	ESSP_CMD_UNIT_DATA = 0x0D,
	ESSP_CMD_CHANNEL_VALUE_REQUEST = 0x0E,
	ESSP_CMD_CHANNEL_SECURITY_DATA = 0x0F,
	ESSP_CMD_SYNC = 0x11,
	ESSP_CMD_LAST_REJECT_CODE = 0x17,
	ESSP_CMD_HOLD = 0x18,
	ESSP_CMD_GET_FIRMWARE_VERSION = 0x20,
	ESSP_CMD_GET_DATASET_VERSION = 0x21,
	ESSP_CMD_SET_GENERATOR = 0x4A,
	ESSP_CMD_SET_MODULUS = 0x4B,
	ESSP_CMD_REQUEST_KEY_EXCHANGE = 0x4C,
	ESSP_CMD_POLL_WITH_ACK = 0x56,
	ESSP_CMD_EVENT_ACK = 0x57, /* GA138's prose says 0x56; its table and example say 0x57 */
	ESSP_CMD_GET_COUNTERS = 0x58,
	ESSP_CMD_RESET_COUNTERS = 0x59,
	ESSP_CMD_SET_FIXED_KEY = 0x60,
	ESSP_CMD_ENCRYPTION_RESET = 0x61,
};

/* The DATA field of one command, ready for essp_frame_encode or essp_seq_prepare. */
struct essp_cmd {
	uint8_t len;
	uint8_t data[ESSP_DATA_MAX];
};

/* Host protocol versions whose poll events this module parses (NV9USB: 6 from fw 3.27,
 * 7 from 3.33, GA973 App. E). From 9 on, READ and CREDIT change length (GA138). */
#define ESSP_PROTOCOL_MIN 4
#define ESSP_PROTOCOL_MAX 8

void essp_cmd_sync(struct essp_cmd *c);
void essp_cmd_reset(struct essp_cmd *c);
/* KIO_ERR_INVALID outside ESSP_PROTOCOL_MIN..ESSP_PROTOCOL_MAX: we would not parse it. */
int essp_cmd_host_protocol_version(struct essp_cmd *c, uint8_t version);
void essp_cmd_setup_request(struct essp_cmd *c);
/* Bit n-1 set enables channel n (1 = accept); all are inhibited at power-up (GA973 §6). */
void essp_cmd_set_inhibits(struct essp_cmd *c, uint16_t enable_mask);
void essp_cmd_enable(struct essp_cmd *c);
void essp_cmd_disable(struct essp_cmd *c);
void essp_cmd_poll(struct essp_cmd *c);
void essp_cmd_poll_with_ack(struct essp_cmd *c);
void essp_cmd_event_ack(struct essp_cmd *c);
void essp_cmd_hold(struct essp_cmd *c);
void essp_cmd_reject(struct essp_cmd *c);
void essp_cmd_last_reject_code(struct essp_cmd *c);
void essp_cmd_get_serial(struct essp_cmd *c);
void essp_cmd_unit_data(struct essp_cmd *c);
void essp_cmd_channel_value_request(struct essp_cmd *c);
void essp_cmd_get_counters(struct essp_cmd *c);
void essp_cmd_display_on(struct essp_cmd *c);
void essp_cmd_display_off(struct essp_cmd *c);
/* Key exchange (GA138 "Encryption Layer"): 64-bit numbers sent little-endian. */
void essp_cmd_set_generator(struct essp_cmd *c, uint64_t generator);
void essp_cmd_set_modulus(struct essp_cmd *c, uint64_t modulus);
void essp_cmd_request_key_exchange(struct essp_cmd *c, uint64_t host_intermediate);

/* Name for logs ("POLL"); "UNKNOWN" for codes not listed above. Never NULL. */
const char *essp_cmd_name(uint8_t code);

/* ---- Host sequence-bit rule (GA138 "Transport Layer"; ITL SDK SSPSendCommand) ----
 *
 * 1. SYNC is sent with the flag set and resets the sequence (the next command uses 0).
 * 2. The flag toggles only after a valid reply to the packet (same SEQ/ID, CRC good).
 * 3. A retry after a timeout re-sends the identical bytes, so the device repeats its last
 *    reply instead of executing the command twice.
 */
struct essp_seq {
	uint8_t addr;
	bool flag;
};

/* A command on the wire, kept until its reply arrives so that retries are byte-identical. */
struct essp_packet {
	uint8_t cmd;   /* first DATA byte, for logs */
	uint8_t seqid; /* the reply must carry the same SEQ/ID */
	size_t len;
	uint8_t bytes[ESSP_WIRE_MAX];
};

void essp_seq_init(struct essp_seq *s, uint8_t addr);
/*
 * Encodes cmd with the current flag (a SYNC first sets it, rule 1). Call once per new
 * command; on timeout re-send pkt->bytes unchanged. KIO_ERR_INVALID if cmd is empty.
 */
int essp_seq_prepare(struct essp_seq *s, const struct essp_cmd *cmd, struct essp_packet *pkt);
/*
 * A frame arrived while pkt was outstanding. If its SEQ/ID matches, toggles the flag
 * (rule 2) and returns 0; otherwise KIO_ERR_PROTOCOL (a stale or foreign reply: keep
 * waiting or retry, the flag is unchanged).
 */
int essp_seq_on_reply(struct essp_seq *s, const struct essp_packet *pkt, const struct essp_frame *reply,
		      struct kio_error *err);

/* ---- Generic responses (GA138 "Generic Responses") ---- */

enum essp_resp_code {
	ESSP_RESP_OK = 0xF0,
	ESSP_RESP_UNKNOWN_COMMAND = 0xF2,
	ESSP_RESP_WRONG_PARAMS = 0xF3,
	ESSP_RESP_PARAM_OUT_OF_RANGE = 0xF4,
	ESSP_RESP_CANNOT_PROCESS = 0xF5,
	ESSP_RESP_SOFTWARE_ERROR = 0xF6,
	ESSP_RESP_FAIL = 0xF8,
	ESSP_RESP_KEY_NOT_SET = 0xFA,
};

bool essp_resp_known(uint8_t code);
const char *essp_resp_name(uint8_t code);
/*
 * Maps a generic response to an error code: OK 0, UNKNOWN_COMMAND UNSUPPORTED, WRONG_PARAMS
 * and PARAM_OUT_OF_RANGE INVALID, CANNOT_PROCESS BUSY, FAIL and SOFTWARE_ERROR IO,
 * KEY_NOT_SET and any unknown code PROTOCOL (the session must be set up again).
 */
int essp_resp_to_err(uint8_t code);
/*
 * Checks that a reply's DATA holds at least the generic response and that it is OK.
 * Non-OK gives essp_resp_to_err() with the response named in err.
 */
int essp_reply_check(const uint8_t *buf, size_t len, struct kio_error *err);

/* ---- Reply parsers ---- */

#define ESSP_CHANNELS_MAX 16

struct essp_setup {
	uint8_t unit_type;          /* 0x00 banknote validator */
	char firmware[5];           /* "0110" = 1.10, NUL-terminated */
	char country[4];            /* obsolete from v6; NUL-terminated */
	uint32_t value_multiplier;  /* big-endian 24-bit; 0 = use the expanded values */
	uint8_t n_channels;         /* highest channel, 1..16 */
	uint8_t short_value[ESSP_CHANNELS_MAX];
	uint32_t real_value_multiplier; /* big-endian 24-bit: major unit → minor unit */
	uint8_t protocol_version;
	bool expanded;              /* v6+: per-channel country and 32-bit value present */
	/* Resolved per channel (index ch-1): major-unit value and currency; 0 = unused. */
	uint32_t value[ESSP_CHANNELS_MAX];
	char channel_country[ESSP_CHANNELS_MAX][4];
};

/*
 * SETUP REQUEST reply of a banknote validator (GA138 "Banknote Validator" table): mixed
 * endianness, multipliers BE, v6+ values LE. The length must match the layout exactly.
 * KIO_ERR_UNSUPPORTED if unit_type is not a banknote validator (other units lay out the
 * reply differently).
 */
int essp_setup_parse(const uint8_t *buf, size_t len, struct essp_setup *out, struct kio_error *err);
/*
 * Value of channel ch (1-based) in fils, from the device's own setup data: the channel's
 * major value times the real value multiplier. KIO_ERR_NOT_FOUND for an unused or unknown
 * channel, KIO_ERR_PROTOCOL if the channel is not AED or the multiplier is not 100
 * (ISO 4217: AED has two decimals), since crediting a wrongly scaled note is worse than
 * refusing it.
 */
int essp_setup_channel_fils(const struct essp_setup *s, uint8_t ch, int64_t *fils, struct kio_error *err);

/* GET SERIAL NUMBER: 4 bytes big-endian (GA138). */
int essp_serial_parse(const uint8_t *buf, size_t len, uint32_t *serial, struct kio_error *err);

struct essp_unit_data {
	uint8_t unit_type;
	char firmware[5];
	char country[4];
	uint32_t value_multiplier; /* big-endian like SETUP REQUEST's */
	uint8_t protocol_version;
};
int essp_unit_data_parse(const uint8_t *buf, size_t len, struct essp_unit_data *out, struct kio_error *err);

/* CHANNEL VALUE REQUEST: v<6 n + n bytes; v6+ adds n×3 country and n×4 LE values. */
struct essp_channel_values {
	uint8_t n_channels;
	uint32_t value[ESSP_CHANNELS_MAX]; /* v<6: the short value (× multiplier); v6+: expanded */
	char country[ESSP_CHANNELS_MAX][4]; /* v6+ only, else empty */
};
int essp_channel_values_parse(const uint8_t *buf, size_t len, uint8_t protocol_version,
			      struct essp_channel_values *out, struct kio_error *err);

/*
 * GET COUNTERS: a count byte then 4-byte counters that persist across power cycles and
 * wrap (GA138). GA138 does not state the byte order; SSP's other 4-byte counts are
 * little-endian and so is this (uncertain until checked on a device).
 */
struct essp_counters {
	uint32_t stacked;
	uint32_t stored;
	uint32_t dispensed;
	uint32_t transferred;
	uint32_t rejected;
};
int essp_counters_parse(const uint8_t *buf, size_t len, struct essp_counters *out, struct kio_error *err);

/* Reject codes (GA138 "Reject Codes"). */
enum essp_reject_code {
	ESSP_REJ_ACCEPTED = 0x00,
	ESSP_REJ_CHANNEL_INHIBIT = 0x06,
	ESSP_REJ_BY_HOST = 0x08,
	ESSP_REJ_DISABLED_BY_HOST = 0x0C,
	ESSP_REJ_FRAUD = 0x0E,
	ESSP_REJ_ESCROW_TIMEOUT = 0x13,
	ESSP_REJ_UNABLE_TO_STACK = 0x1D,
	ESSP_REJ_MAX = 0x1D,
};
int essp_last_reject_parse(const uint8_t *buf, size_t len, uint8_t *code, struct kio_error *err);
const char *essp_reject_name(uint8_t code);

/* REQUEST KEY EXCHANGE reply: OK + the slave's 8-byte LE intermediate key. */
int essp_key_exchange_parse(const uint8_t *buf, size_t len, uint64_t *slave_intermediate,
			    struct kio_error *err);

/* ---- Poll events of a banknote validator (GA138 event tables, NV9USB event table) ---- */

enum essp_event_code {
	ESSP_EV_SLAVE_RESET = 0xF1,
	ESSP_EV_READ = 0xEF,            /* ch 0: reading; ch > 0: note of ch held in escrow */
	ESSP_EV_CREDIT = 0xEE,          /* the credit point (GA973 §8 "Accept note") */
	ESSP_EV_REJECTING = 0xED,
	ESSP_EV_REJECTED = 0xEC,
	ESSP_EV_STACKING = 0xCC,
	ESSP_EV_STACKED = 0xEB,
	ESSP_EV_SAFE_JAM = 0xEA,        /* GA973 "Safe jam"; absent from GA138 v2.2 tables */
	ESSP_EV_UNSAFE_JAM = 0xE9,
	ESSP_EV_DISABLED = 0xE8,
	ESSP_EV_STACKER_FULL = 0xE7,
	ESSP_EV_FRAUD_ATTEMPT = 0xE6,
	ESSP_EV_BARCODE_VALIDATED = 0xE5,
	ESSP_EV_CASHBOX_REPLACED = 0xE4,
	ESSP_EV_CASHBOX_REMOVED = 0xE3,
	ESSP_EV_CLEARED_INTO_CASHBOX = 0xE2,
	ESSP_EV_CLEARED_FROM_FRONT = 0xE1,
	ESSP_EV_NOTE_PATH_OPEN = 0xE0,
	ESSP_EV_BARCODE_ACK = 0xD1,
	ESSP_EV_INITIALISING = 0xB6,
	ESSP_EV_CHANNEL_DISABLE = 0xB5,
	ESSP_EV_TICKET_PRINTED_TO_CASHBOX = 0xAF,
	ESSP_EV_TICKET_PRINT_HALTED = 0xAE,
	ESSP_EV_TICKET_IN_BEZEL = 0xAD,
	ESSP_EV_TICKET_PRINT_ERROR = 0xA8,
	ESSP_EV_TICKET_IN_BEZEL_AT_STARTUP = 0xA7,
	ESSP_EV_TICKET_PRINTED = 0xA6,
	ESSP_EV_TICKET_PRINTING = 0xA5,
};

struct essp_event {
	uint8_t code;
	/* The data byte: channel for READ, CREDIT, FRAUD, CLEARED_*; reason for TICKET_PRINT_ERROR. */
	uint8_t data;
};

/* One data byte per event at most, and DATA[0] is the generic response. */
#define ESSP_POLL_EVENTS_MAX (ESSP_DATA_MAX - 1)

struct essp_poll {
	size_t n;
	struct essp_event ev[ESSP_POLL_EVENTS_MAX];
};

/*
 * Parses a POLL or POLL WITH ACK reply at the negotiated protocol version. Every event
 * is kept, in order (one reply can carry credit, stacking, stacked and stacker full,
 * GA973 "Stacker full"). An unknown code, an event not defined at this version or a
 * truncated event makes the rest unparseable: KIO_ERR_PROTOCOL naming the code and
 * offset; out->n then counts the events before it, for the log only.
 * KIO_ERR_UNSUPPORTED for a version outside ESSP_PROTOCOL_MIN..MAX.
 */
int essp_poll_parse(const uint8_t *buf, size_t len, uint8_t protocol_version, struct essp_poll *out,
		    struct kio_error *err);

/* Data bytes of an event at a version; -1 if unknown or not defined at that version. */
int essp_event_data_len(uint8_t code, uint8_t protocol_version);
/* Events that repeat until EVENT ACK under POLL WITH ACK (GA138 "Poll with Ack" column). */
bool essp_event_needs_ack(uint8_t code);
/* Name for logs ("NOTE CREDIT"); "UNKNOWN" otherwise. Never NULL. */
const char *essp_event_name(uint8_t code);

/* ---- eSSP encryption (GA138 "Encryption Layer"; research §1.7) ----
 *
 * Built when Debian's nettle-dev is present (ESSP_HAVE_CRYPTO is then defined for every
 * user of essp_dep). Nothing here draws random numbers or reads a clock: the caller
 * passes the DH secrets and the padding bytes, so tests are exact.
 *
 * Key: AES-128 over LE64(fixed key) || LE64(negotiated key). Packet DATA: 0x7E then
 * AES-128-ECB(eLEN, eCOUNT (LE32), eDATA, padding, eCRC) in 16-byte blocks.
 * eCOUNT as the ITL SDK keeps it: a command goes out with the host's count, which then
 * goes up by one; the reply must carry the new count; the next command uses it. A retry
 * re-sends the stored packet and must never be sealed again (GA138 Transport Layer).
 */
#ifdef ESSP_HAVE_CRYPTO

#define ESSP_FIXED_KEY_DEFAULT 0x0123456701234567ull /* GA973 §6.2.2 */
/* Largest eDATA that still fits a frame: 1 + round16(len + 7) <= 255. */
#define ESSP_CRYPTO_DATA_MAX 233

/* base^exp mod m for the 64-bit Diffie-Hellman of the key exchange; m > 0. */
uint64_t essp_dh_powmod(uint64_t base, uint64_t exp, uint64_t m);
/* Deterministic for 64-bit n; the device refuses a non-prime generator or modulus with
 * PARAMETER OUT OF RANGE (GA138 Set Generator). */
bool essp_is_prime(uint64_t n);

struct essp_crypto {
	uint8_t key[16];
	uint32_t count;
};

/* Sets the key after a key exchange and resets eCOUNT to 0 (GA138, ITL SDK). */
void essp_crypto_init(struct essp_crypto *c, uint64_t fixed_key, uint64_t negotiated_key);

/*
 * Low level, either side: seals data (1..ESSP_CRYPTO_DATA_MAX bytes) with eCOUNT `count`
 * into out->data (0x7E + ciphertext); pad gives up to 15 filler bytes (random on a real
 * link). KIO_ERR_INVALID for a bad length.
 */
int essp_crypto_seal(const struct essp_crypto *c, uint32_t count, const uint8_t *data, size_t len,
		     const uint8_t pad[16], struct essp_cmd *out);
/*
 * Low level: opens an encrypted DATA field (0x7E + n×16 bytes) into out (at least
 * ESSP_DATA_MAX bytes) and reports its eCOUNT. KIO_ERR_PROTOCOL if it is not an
 * encrypted packet, is misaligned, or its eLEN or eCRC is wrong.
 */
int essp_crypto_open(const struct essp_crypto *c, const uint8_t *buf, size_t len, uint8_t *out,
		     size_t *out_len, uint32_t *count, struct kio_error *err);

/* Host side: seals a command with the current count, then counts it. */
int essp_crypto_host_seal(struct essp_crypto *c, const struct essp_cmd *plain, const uint8_t pad[16],
			  struct essp_cmd *out);
/* Host side: opens a reply and checks its eCOUNT is the current count; a mismatch is
 * KIO_ERR_PROTOCOL and the reply must be discarded (GA138: it is not acted on). */
int essp_crypto_host_open(const struct essp_crypto *c, const uint8_t *buf, size_t len, uint8_t *out,
			  size_t *out_len, struct kio_error *err);

#endif /* ESSP_HAVE_CRYPTO */
