/*
 * ckpt_tree_int.h - between ckpt_tree.c (messages, members, sections) and
 * ckpt_tree_coord.c (the coordinator).  Not for the rest of libckpt:
 * ckpt_tree.h is the interface.
 */
#ifndef CKPT_TREE_INT_H
#define CKPT_TREE_INT_H

#include <sys/types.h>
#include "libckpt/ckpt_tree.h"

struct ckpt_ctx;

/* A /proc file of another member, read whole (a maps file may be large). */
#define CKPT_TREE_TEXT		(8u << 20)
/* How long a parked member waits for CAPTURE: the others may be slow to park. */
#define TREE_WAIT_MS		60000

struct ckpt_tree *tree_self(void);
int tree_scratch(struct ckpt_ctx *c, struct ckpt_tree *t);
void tree_own(struct ckpt_tree *t, int fd, int own);
void tree_msg_init(struct tree_msg *m, uint32_t type);
int tree_send(int fd, const struct tree_msg *m, const void *extra, size_t len, int pass);
ssize_t tree_recv(struct ckpt_tree *t, int fd, int timeout_ms, int *pass);
/* ckpt_tree_fds.c: the coordinator's table of the earlier members' files, at CAPTURE. */
int tree_objs_take(struct ckpt_ctx *c, struct ckpt_tree *t, int fd);
int tree_zombies(const int32_t *kids, int nkids, struct tree_zombie *out, int max);
/* Pads *off to a page, copies the sink to fd, writes the VMAs and pages, END; *off moves. */
int tree_section_write(struct ckpt_ctx *c, int fd, uint64_t *off);

int tree_coord_parked(struct ckpt_ctx *c);
int tree_coord_finish(struct ckpt_ctx *c, int released[2]);
void tree_coord_end(struct ckpt_ctx *c);

#endif
