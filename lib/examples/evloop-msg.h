/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The messages lib/tests/evloop sends and lib/examples/evloop checks: a
 * header, then @len bytes of payload, byte i of message @seq being
 * (seq * 31 + i) mod 256.
 */
#ifndef SHMCHAN_EVLOOP_MSG_H
#define SHMCHAN_EVLOOP_MSG_H

#include <stdint.h>

#define PAYLOAD_MAX	200

struct msg {
	uint32_t sender;
	uint32_t len;
	uint64_t seq;
	uint8_t payload[PAYLOAD_MAX];
};

static inline uint8_t payload_byte(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i);
}

#endif /* SHMCHAN_EVLOOP_MSG_H */
