/* SSP command builders: the DATA field of each host command a banknote validator needs
 * (GA138 command descriptions, NV9USB command table). */
#include "essp.h"

static void simple(struct essp_cmd *c, uint8_t code)
{
	c->len = 1;
	c->data[0] = code;
}

/* 64-bit key-exchange numbers travel least significant byte first (GA138 Set Generator
 * example: 982451653 = 0x3A8F05C5 is sent as C5 05 8F 3A 00 00 00 00). */
static void with_u64(struct essp_cmd *c, uint8_t code, uint64_t v)
{
	c->len = 9;
	c->data[0] = code;
	for (int i = 0; i < 8; i++)
		c->data[1 + i] = (uint8_t)(v >> (8 * i));
}

void essp_cmd_sync(struct essp_cmd *c) { simple(c, ESSP_CMD_SYNC); }
void essp_cmd_reset(struct essp_cmd *c) { simple(c, ESSP_CMD_RESET); }
void essp_cmd_setup_request(struct essp_cmd *c) { simple(c, ESSP_CMD_SETUP_REQUEST); }
void essp_cmd_enable(struct essp_cmd *c) { simple(c, ESSP_CMD_ENABLE); }
void essp_cmd_disable(struct essp_cmd *c) { simple(c, ESSP_CMD_DISABLE); }
void essp_cmd_poll(struct essp_cmd *c) { simple(c, ESSP_CMD_POLL); }
void essp_cmd_poll_with_ack(struct essp_cmd *c) { simple(c, ESSP_CMD_POLL_WITH_ACK); }
void essp_cmd_event_ack(struct essp_cmd *c) { simple(c, ESSP_CMD_EVENT_ACK); }
void essp_cmd_hold(struct essp_cmd *c) { simple(c, ESSP_CMD_HOLD); }
void essp_cmd_reject(struct essp_cmd *c) { simple(c, ESSP_CMD_REJECT); }
void essp_cmd_last_reject_code(struct essp_cmd *c) { simple(c, ESSP_CMD_LAST_REJECT_CODE); }
void essp_cmd_get_serial(struct essp_cmd *c) { simple(c, ESSP_CMD_GET_SERIAL); }
void essp_cmd_unit_data(struct essp_cmd *c) { simple(c, ESSP_CMD_UNIT_DATA); }
void essp_cmd_channel_value_request(struct essp_cmd *c) { simple(c, ESSP_CMD_CHANNEL_VALUE_REQUEST); }
void essp_cmd_get_counters(struct essp_cmd *c) { simple(c, ESSP_CMD_GET_COUNTERS); }
void essp_cmd_display_on(struct essp_cmd *c) { simple(c, ESSP_CMD_DISPLAY_ON); }
void essp_cmd_display_off(struct essp_cmd *c) { simple(c, ESSP_CMD_DISPLAY_OFF); }

int essp_cmd_host_protocol_version(struct essp_cmd *c, uint8_t version)
{
	if (version < ESSP_PROTOCOL_MIN || version > ESSP_PROTOCOL_MAX)
		return KIO_ERR_INVALID;
	c->len = 2;
	c->data[0] = ESSP_CMD_HOST_PROTOCOL_VERSION;
	c->data[1] = version;
	return 0;
}

void essp_cmd_set_inhibits(struct essp_cmd *c, uint16_t enable_mask)
{
	/* Two bytes, low channels first: accepted by every validator (NV200 takes up to 4). */
	c->len = 3;
	c->data[0] = ESSP_CMD_SET_INHIBITS;
	c->data[1] = (uint8_t)(enable_mask & 0xFF);
	c->data[2] = (uint8_t)(enable_mask >> 8);
}

void essp_cmd_set_generator(struct essp_cmd *c, uint64_t generator)
{
	with_u64(c, ESSP_CMD_SET_GENERATOR, generator);
}

void essp_cmd_set_modulus(struct essp_cmd *c, uint64_t modulus)
{
	with_u64(c, ESSP_CMD_SET_MODULUS, modulus);
}

void essp_cmd_request_key_exchange(struct essp_cmd *c, uint64_t host_intermediate)
{
	with_u64(c, ESSP_CMD_REQUEST_KEY_EXCHANGE, host_intermediate);
}

const char *essp_cmd_name(uint8_t code)
{
	switch (code) {
	case ESSP_CMD_RESET: return "RESET";
	case ESSP_CMD_SET_INHIBITS: return "SET INHIBITS";
	case ESSP_CMD_DISPLAY_ON: return "DISPLAY ON";
	case ESSP_CMD_DISPLAY_OFF: return "DISPLAY OFF";
	case ESSP_CMD_SETUP_REQUEST: return "SETUP REQUEST";
	case ESSP_CMD_HOST_PROTOCOL_VERSION: return "HOST PROTOCOL VERSION";
	case ESSP_CMD_POLL: return "POLL";
	case ESSP_CMD_REJECT: return "REJECT";
	case ESSP_CMD_DISABLE: return "DISABLE";
	case ESSP_CMD_ENABLE: return "ENABLE";
	case ESSP_CMD_GET_SERIAL: return "GET SERIAL NUMBER";
	case ESSP_CMD_UNIT_DATA: return "UNIT DATA";
	case ESSP_CMD_CHANNEL_VALUE_REQUEST: return "CHANNEL VALUE REQUEST";
	case ESSP_CMD_CHANNEL_SECURITY_DATA: return "CHANNEL SECURITY DATA";
	case ESSP_CMD_SYNC: return "SYNC";
	case ESSP_CMD_LAST_REJECT_CODE: return "LAST REJECT CODE";
	case ESSP_CMD_HOLD: return "HOLD";
	case ESSP_CMD_GET_FIRMWARE_VERSION: return "GET FIRMWARE VERSION";
	case ESSP_CMD_GET_DATASET_VERSION: return "GET DATASET VERSION";
	case ESSP_CMD_SET_GENERATOR: return "SET GENERATOR";
	case ESSP_CMD_SET_MODULUS: return "SET MODULUS";
	case ESSP_CMD_REQUEST_KEY_EXCHANGE: return "REQUEST KEY EXCHANGE";
	case ESSP_CMD_POLL_WITH_ACK: return "POLL WITH ACK";
	case ESSP_CMD_EVENT_ACK: return "EVENT ACK";
	case ESSP_CMD_GET_COUNTERS: return "GET COUNTERS";
	case ESSP_CMD_RESET_COUNTERS: return "RESET COUNTERS";
	case ESSP_CMD_SET_FIXED_KEY: return "SET FIXED ENCRYPTION KEY";
	case ESSP_CMD_ENCRYPTION_RESET: return "ENCRYPTION RESET TO DEFAULT";
	}
	return "UNKNOWN";
}
