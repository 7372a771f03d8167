/*
 * fd_inet.h - what the files of the TCP/UDP kind share (fds/fd_inet.c:
 * the record check and the save half; fd_inet_make.c: a restart makes the
 * sockets again).  Read fd_inet.c's notes first.
 */
#ifndef CKPT_FD_INET_H
#define CKPT_FD_INET_H

#include <stddef.h>
#include <stdint.h>
#include "fds/fd_kind.h"

/* The kernel's TCP_REPAIR interface (linux/tcp.h), spelled out for both libcs. */
#define INET_TCP_REPAIR		19
#define INET_TCP_REPAIR_QUEUE	20
#define INET_TCP_QUEUE_SEQ	21
#define INET_TCP_REPAIR_OPTIONS	22
#define INET_TCP_TIMESTAMP	24
#define INET_TCP_REPAIR_WINDOW	29
#define INET_REPAIR_ON		1
#define INET_REPAIR_OFF		0
#define INET_REPAIR_OFF_NO_WP	(-1)	/* off without the window probe */
#define INET_NO_QUEUE		0
#define INET_RECV_QUEUE		1
#define INET_SEND_QUEUE		2
#define INET_TCPOPT_MSS		2
#define INET_TCPOPT_WINDOW	3
#define INET_TCPOPT_SACK_PERM	4
#define INET_TCPOPT_TIMESTAMP	8
#define INET_TCPI_OPT_TS	1
#define INET_TCPI_OPT_SACK	2
#define INET_TCPI_OPT_WSCALE	4

/* linux/tcp.h's TCP states (tcp_info.tcpi_state, sock_diag). */
#define INET_TCP_ESTABLISHED	1
#define INET_TCP_CLOSE		7
#define INET_TCP_LISTEN		10

struct inet_repair_window {
	uint32_t snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup;
};

struct inet_repair_opt {
	uint32_t code, val;
};

/* The head of struct tcp_info (linux/tcp.h), as far as libckpt reads it. */
struct inet_tcp_info {
	uint8_t state, ca_state, retransmits, probes, backoff, options;
	uint8_t wscale;			/* snd_wscale: low 4 bits, rcv_wscale: high 4 */
	uint8_t rate_flags;
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked;		/* LISTEN: connections waiting to be accepted */
	uint32_t sacked;		/* LISTEN: the backlog listen() was given */
	uint32_t rest[40];
};

/* "TCP", "UDP" (or "?"), "IPv4", "IPv6". */
const char *inet_proto_name(uint32_t protocol);
const char *inet_family_name(uint32_t family);
/* "127.0.0.1:8080" or "[::1]:8080" of an address in image form, into buf. */
void inet_addr_text(uint32_t family, const uint8_t *a, uint16_t port, char *buf, size_t len);
/* "listening", "established", ... */
const char *inet_state_name(uint32_t state);
/* A TCP state of tcp_info in words ("CLOSE_WAIT"). */
const char *inet_tcp_state_name(int st);

#ifdef FD_RESTORE
struct rst_state;
struct rst_file;
struct img_rec;

/* ckpt-restart --tcp=: what becomes of a TCP connection to a peer outside the image. */
enum rst_tcp_mode {
	RST_TCP_REFUSE = 0,	/* the default: the restart refuses, naming it */
	RST_TCP_REPAIR,		/* TCP_REPAIR: the peer must still hold the connection */
	RST_TCP_CLOSE,		/* made reset: ECONNRESET on its next use */
};

/*
 * TIME_WAIT entries on a listener's address (fds/fd_inet_tw.c).  only: 1
 * when there are some and every socket on that TCP port is one.  clear:
 * destroys them (SOCK_DESTROY: CAP_NET_ADMIN); how many, or -errno.
 */
int inet_tw_only(int family, const uint8_t *addr, uint16_t port);
int inet_tw_clear(int family, const uint8_t *addr, uint16_t port);

/* A restart's INET FILE: its queues as read, its socket as made. */
struct rst_inet {
	unsigned char *q[2];		/* IMG_INET_RECV, IMG_INET_SEND: the bytes */
	uint64_t qlen[2];
	int have[2];			/* the INET_QUEUE record was read */
	int sock;			/* made by the build, -1 */
	int repair;			/* made by TCP_REPAIR, still in repair mode */
	int reset;			/* made reset (--tcp=close) */
};

/* ckpt-restart --tcp= (restart_main.c sets it): enum rst_tcp_mode. */
extern int rst_tcp_mode;
/* fd_inet_make.c: an INET_QUEUE record (restart_load.c): 0 or an exit code. */
int rst_inet_queue_load(struct rst_state *s, const struct img_rec *rec);
void rst_inet_free(struct rst_file *f);
/* Whether the ESTABLISHED f's peer is another INET FILE of the image. */
int rst_inet_peer_in(struct rst_state *s, const struct rst_file *f);
#endif

#endif
