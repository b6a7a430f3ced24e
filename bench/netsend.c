/*
 * netsend - send UDP frames into a network interface (the bench's tap) as
 * fast as the kernel takes them, for a while: the host side of the
 * bench's host->guest virtio-net rows.
 *
 *   netsend IFNAME DST_MAC FRAME_LEN MS
 *
 * Frames are Ethernet/IPv4/UDP, FRAME_LEN bytes (60..1514, no FCS), from
 * the interface's own MAC and 10.77.0.1:4000 to DST_MAC and 10.77.0.2:5001
 * (tests/guests/bench.c, mode=net, counts exactly these).  They go out
 * through an AF_PACKET socket with PACKET_QDISC_BYPASS, in sendmmsg()
 * batches, so on a tap each one lands straight in the queue the VMM reads
 * (the tap drops what does not fit and counts it in tx_dropped); when
 * the queue is full it pauses 0.1 ms rather than spin, so the sender does
 * not take the CPU the VMM needs to drain it.
 * Prints "sent=N errors=E ms=T" at the end (errors: sendmmsg calls
 * refused, each a frame dropped at a full queue).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int main(int argc, char **argv)
{
	static uint8_t frame[1514];
	struct sockaddr_ll sll = { 0 };
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { frame, 0 };
	struct ifreq ifr = { 0 };
	unsigned mac[6];
	long len, ms;
	unsigned long long sent = 0, errors = 0;
	double t0, end;
	uint32_t s = 0;
	uint8_t *ip = frame + 14, *udp = ip + 20;
	const struct timespec pause = { 0, 100000 }; /* 0.1 ms */
	int fd, one = 1;

	if (argc != 5 || sscanf(argv[2], "%x:%x:%x:%x:%x:%x", &mac[0],
		&mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6 ||
	    (len = strtol(argv[3], NULL, 0)) < 60 || len > 1514 ||
	    (ms = strtol(argv[4], NULL, 0)) <= 0 ||
	    strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "usage: netsend IFNAME DST_MAC FRAME_LEN(60..1514) MS\n");
		return 2;
	}
	if ((fd = socket(AF_PACKET, SOCK_RAW, 0)) < 0) {
		perror("netsend: socket");
		return 1;
	}
	strcpy(ifr.ifr_name, argv[1]);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
		perror("netsend: SIOCGIFINDEX");
		return 1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifr.ifr_ifindex;
	sll.sll_protocol = htons(ETH_P_IP);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
		perror("netsend: SIOCGIFHWADDR");
		return 1;
	}
	/* No qdisc: the tap's own queue is the only one. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
		sizeof(one)) != 0)
		perror("netsend: PACKET_QDISC_BYPASS (going on)");

	for (int i = 0; i < 6; i++)
		frame[i] = (uint8_t)mac[i];
	memcpy(frame + 6, ifr.ifr_hwaddr.sa_data, 6);
	put16(frame + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(len - 14));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){ 10, 77, 0, 1 }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 77, 0, 2 }, 4);
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	put16(ip + 10, (uint16_t)~s);
	put16(udp, 4000);
	put16(udp + 2, 5001);
	put16(udp + 4, (uint16_t)(len - 34));
	iov.iov_len = (size_t)len;
	for (int i = 0; i < BATCH; i++) {
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = now_ms();
	end = t0 + (double)ms;
	while (now_ms() < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n < 0) {
			/* ENOBUFS and the like: the frame is lost, go on. */
			errors++;
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != ENETDOWN && errno != EINTR) {
				perror("netsend: sendmmsg");
				break;
			}
		} else {
			sent += (unsigned long long)n;
		}
		if (n < BATCH) {
			/* The tap's queue is full (its reader is the bottleneck):
			 * leave the CPU to the VMM for a moment instead of
			 * spinning.  The queue (txqueuelen, 1000 frames) holds
			 * far more than this sleep's worth of frames. */
			nanosleep(&pause, NULL);
		}
	}
	printf("sent=%llu errors=%llu ms=%.0f\n", sent, errors, now_ms() - t0);
	close(fd);
	return 0;
}
