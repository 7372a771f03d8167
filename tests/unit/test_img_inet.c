/*
 * test_img_inet.c - TCP/UDP and netlink sockets: the reader's checks of
 * INET_QUEUE records (libckpt/img_inet.c) and of the INET and NETLINK
 * kinds' data (fds/fd_inet.c, fd_netlink.c), and the address text the
 * checkpoint's messages use.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "fds/fd_inet.h"
#include "libckpt/img.h"
#include "tests/unit/img_sample.h"
#include "tests/unit/unit.h"

static void test_check_queue(void)
{
	const unsigned char bytes[5] = "hello";
	struct img_inet_queue q = { .file = 3, .which = IMG_INET_SEND, .len = 5 };

	trw_expect_get(IMG_REC_INET_QUEUE, &q, sizeof(q), bytes, 4, "5 bytes said");
	q.file = 0;
	trw_expect_get(IMG_REC_INET_QUEUE, &q, sizeof(q), bytes, 5, "file 0");
	q.file = 3;
	q.which = 2;
	trw_expect_get(IMG_REC_INET_QUEUE, &q, sizeof(q), bytes, 5, "queue 2");
	q.which = IMG_INET_RECV;
	q.len = 0;
	trw_expect_get(IMG_REC_INET_QUEUE, &q, sizeof(q), NULL, 0, "0 bytes said");
	trw_expect_get(IMG_REC_INET_QUEUE, &q, 8, NULL, 0, "INET_QUEUE");
}

static int inet_ok(const struct img_file_inet *k)
{
	const struct fd_kind_info *info = fd_kind_info(IMG_FILE_INET);
	struct img_file f = { .id = 4, .kind = IMG_FILE_INET, .data_len = sizeof(*k) };
	char err[256];

	return info->valid(&f, "", k, err, sizeof(err)) == 0;
}

static void test_check_kind(void)
{
	const struct img_file_inet lis = { .family = AF_INET, .type = SOCK_STREAM,
					   .protocol = IPPROTO_TCP, .state = IMG_INET_LISTEN,
					   .local = { 127, 0, 0, 1 }, .lport = 80, .backlog = 7,
					   .iflags = IMG_INET_REUSEADDR };
	const struct img_file_inet est = { .family = AF_INET6, .type = SOCK_STREAM,
					   .protocol = IPPROTO_TCP, .state = IMG_INET_ESTABLISHED,
					   .lport = 80, .pport = 4000, .iflags = IMG_INET_REPAIR |
					   IMG_INET_OPT_WSCALE | IMG_INET_V6ONLY, .inq_len = 10,
					   .outq_len = 20, .unsq_len = 5, .mss_clamp = 65483,
					   .snd_wscale = 7, .rcv_wscale = 7 };
	struct img_file_inet k;
	struct img_file_netlink nl = { .protocol = 0, .type = SOCK_RAW, .portid = 9, .groups = 1 };
	struct img_file f = { .id = 4, .kind = IMG_FILE_NETLINK, .data_len = sizeof(nl) };
	const struct fd_kind_info *ni = fd_kind_info(IMG_FILE_NETLINK);
	char err[256];

	CU_ASSERT(inet_ok(&lis));
	CU_ASSERT(inet_ok(&est));
	k = lis;
	k.type = SOCK_DGRAM;			/* a UDP "listener" */
	CU_ASSERT(!inet_ok(&k));
	k = lis;
	k.protocol = IPPROTO_ICMP;
	CU_ASSERT(!inet_ok(&k));
	k = lis;
	k.family = AF_UNIX;
	CU_ASSERT(!inet_ok(&k));
	k = lis;
	k.lport = 0;				/* listening on no port */
	CU_ASSERT(!inet_ok(&k));
	k = lis;
	k.iflags |= IMG_INET_V6ONLY;		/* on IPv4 */
	CU_ASSERT(!inet_ok(&k));
	k = lis;
	k.inq_len = 3;				/* queues without a connection */
	CU_ASSERT(!inet_ok(&k));
	k = est;
	k.pport = 0;
	CU_ASSERT(!inet_ok(&k));
	k = est;
	k.unsq_len = 21;			/* more unsent than queued */
	CU_ASSERT(!inet_ok(&k));
	k = est;
	k.outq_len = IMG_INET_QUEUE_MAX + 1;
	k.unsq_len = 0;
	CU_ASSERT(!inet_ok(&k));
	k = est;
	k.snd_wscale = 15;
	CU_ASSERT(!inet_ok(&k));
	k = est;
	k.mss_clamp = 0;
	CU_ASSERT(!inet_ok(&k));
	k = est;
	k.reserved = 1;
	CU_ASSERT(!inet_ok(&k));
	k = est;
	k.iflags = 0x8000;
	CU_ASSERT(!inet_ok(&k));
	CU_ASSERT_EQUAL(ni->valid(&f, "", &nl, err, sizeof(err)), 0);
	nl.protocol = 4;			/* sock_diag */
	CU_ASSERT_NOT_EQUAL(ni->valid(&f, "", &nl, err, sizeof(err)), 0);
	nl.protocol = 0;
	nl.reserved = 2;
	CU_ASSERT_NOT_EQUAL(ni->valid(&f, "", &nl, err, sizeof(err)), 0);
}

static void test_addr_text(void)
{
	uint8_t a4[16] = { 10, 1, 2, 254 }, a6[16] = { 0xfe, 0x80, [15] = 1 };
	char buf[64];

	inet_addr_text(AF_INET, a4, 8080, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "10.1.2.254:8080");
	inet_addr_text(AF_INET6, a6, 443, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "[fe80:0:0:0:0:0:0:1]:443");
	inet_addr_text(AF_INET, a4, 1, buf, 6);
	CU_ASSERT_STRING_EQUAL(buf, "10.1.");
}

UNIT_SUITE(img_inet,
	{ "INET_QUEUE: the reader's checks", test_check_queue },
	{ "INET and NETLINK kind data: what a socket can have", test_check_kind },
	{ "addresses in words", test_addr_text },
);
