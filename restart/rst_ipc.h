/*
 * rst_ipc.h - restart_ipc.c's and restart_sysv.c's shared view of the
 * IPC objects an image holds (rst.h declares what the rest of
 * ckpt-restart calls).
 */
#ifndef CKPT_RST_IPC_H
#define CKPT_RST_IPC_H

#include <stddef.h>
#include <stdint.h>
#include "libckpt/img_format.h"

enum { IPC_UNDECIDED, IPC_REUSE, IPC_CREATE };
enum { T_SHM, T_SEM, T_MSG };

/* By type: "SysV shared memory segment"..., its /proc/sysvipc file, next-id sysctl, ipcrm letter */
extern const char *const rst_ipc_what[], *const rst_ipc_next[];
extern const char rst_ipc_ipcrm[];

struct rst_extent_ {
	uint64_t off, len;
};

struct rst_shm {
	struct img_sysv_shm m;
	unsigned char *mem;		/* staging: the segment's saved pages */
	struct rst_extent_ *ext;	/* where the FILE_DATA records put them */
	size_t next, ext_cap;
	uint64_t end;			/* end of the last FILE_DATA: the next starts there or after */
	int action;			/* IPC_REUSE or IPC_CREATE (rst_check_ipc) */
	int made;			/* made by this restart (removed if it fails) */
	void *keep;			/* ckpt-restart's attach, kept for the restorer, or NULL */
};

struct rst_sem {
	struct img_sysv_sem m;
	struct img_sem *vals;
	struct img_semadj *adj;		/* this process's adjustments (an UNDO record) */
	uint32_t nadj;
	int action;			/* IPC_REUSE or IPC_CREATE (rst_check_ipc) */
	int made;			/* made by this restart (removed if it fails) */
};

struct rst_msg {
	struct img_sysv_msg m;
	unsigned char *msgs;		/* the record's tail */
	size_t len;
	int action;			/* IPC_REUSE or IPC_CREATE (rst_check_ipc) */
	int made;			/* made by this restart (removed if it fails) */
};

struct rst_mq {
	uint32_t file;
	struct img_mq_msgs *rec;	/* the whole payload */
};

struct rst_ipc {
	struct rst_shm *shm;
	struct rst_sem *sem;
	struct rst_msg *msg;
	struct rst_mq *mq;
	size_t nshm, nsem, nmsg, nmq, shm_cap, sem_cap, msg_cap, mq_cap;
	int ns;				/* -1: nothing seen yet; else the IMG_IPC_NS flag all say */
	int ns_entered;
};

#endif
