/* Scratch experiment (tenth session, issue 12), kept to reproduce the
 * figures in zen5.md: on the AVX-512 EPYC (family 26) random 8-byte reads
 * are bound by the instructions a read takes, not by its loads.  Loops
 * over the same 2 M random addresses of mid.dmp (test_hmodel --big mid.dmp
 * 1500000; its ranges are written in): raw loads (file offsets computed
 * beforehand), the record path as the reader has it (A), without the
 * dir_pk test (B), without the AND of the table's address (C: a table
 * placed at the shift's byte offset, records across lines), with a
 * data - start record (D), and the raw loop with 10 NOPs an iteration.
 * Build: gcc -O2 -o rob rob.c; run: ./rob mid.dmp */
// Random-read microbenchmark: is the read path bound by instruction count (ROB) or by its load chain?
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static uint64_t rng=0x9E3779B97F4A7C15ull;static uint64_t nr(void){rng^=rng>>12;rng^=rng<<25;rng^=rng>>27;return rng*2685821657736338717ull;}
struct rec{uint64_t start,lim8,len;const uint8_t*data;};
struct W{uint64_t pk;} ;
#define N 2000000
static uint64_t addr[N],foff[N];
static const uint8_t *file; static uint64_t fsize;
static struct rec *recs; static volatile uint64_t pkv;
__attribute__((noinline,aligned(64))) static uint64_t raw(int extra){
  uint64_t s=0; for(size_t i=0;i<N;i++){uint64_t o=foff[i],v=0; if(o<fsize&&fsize-o>=8) memcpy(&v,file+o,8); s+=v;} return s;}
__attribute__((noinline,aligned(64))) static uint64_t rawx(void){
  uint64_t s=0; for(size_t i=0;i<N;i++){uint64_t o=foff[i],v=0; if(o<fsize&&fsize-o>=8) memcpy(&v,file+o,8);
   __asm__ volatile("nop;nop;nop;nop;nop;nop;nop;nop;nop;nop" ::: "memory"); s+=v;} return s;}
__attribute__((noinline,aligned(64))) static uint64_t rawy(void){ // 8 extra dependent-free ALU ops
  uint64_t s=0,t=0; for(size_t i=0;i<N;i++){uint64_t o=foff[i],v=0; if(o<fsize&&fsize-o>=8) memcpy(&v,file+o,8);
   uint64_t a=o; __asm__ volatile("add $1,%0;add $1,%0;add $1,%0;add $1,%0;add $1,%0;add $1,%0;add $1,%0;add $1,%0":"+r"(a)); t^=a; s+=v;} return s+(t&0);}
__attribute__((noinline)) static uint64_t slow(uint64_t a){(void)a;return 1;}

#define PK(w) (*(volatile uint64_t*)&(w)->pk)
__attribute__((noinline,aligned(64))) static uint64_t recA(struct W*w){ // current: test pk, mask
  uint64_t s=0; for(size_t i=0;i<N;i++){uint64_t a=addr[i],v=0; uint64_t pk=PK(w); if(pk){
   uint64_t off=(a>>(pk&63))&((uint64_t)65535<<5); const struct rec*r=(const struct rec*)(uintptr_t)((pk&~0xfffull)+off);
   uint64_t o=a-r->start; if(o<r->lim8){memcpy(&v,r->data+o,8);} else v=slow(a);} else v=slow(a); s+=v;} return s;}
__attribute__((noinline,aligned(64))) static uint64_t recB(struct W*w){ // no test
  uint64_t s=0; for(size_t i=0;i<N;i++){uint64_t a=addr[i],v=0; uint64_t pk=PK(w); {
   uint64_t off=(a>>(pk&63))&((uint64_t)65535<<5); const struct rec*r=(const struct rec*)(uintptr_t)((pk&~0xfffull)+off);
   uint64_t o=a-r->start; if(o<r->lim8){memcpy(&v,r->data+o,8);} else v=slow(a);} s+=v;} return s;}
__attribute__((noinline,aligned(64))) static uint64_t recC(struct W*w){ // no test, no mask (table misaligned by shift)
  uint64_t s=0; for(size_t i=0;i<N;i++){uint64_t a=addr[i],v=0; uint64_t pk=PK(w); {
   uint64_t off=(a>>(pk&63))&((uint64_t)65535<<5); const struct rec*r=(const struct rec*)(uintptr_t)(pk+off);
   uint64_t o=a-r->start; if(o<r->lim8){memcpy(&v,r->data+o,8);} else v=slow(a);} s+=v;} return s;}
__attribute__((noinline,aligned(64))) static uint64_t recD(struct W*w){ // no test, delta record: p = a + delta
  uint64_t s=0; for(size_t i=0;i<N;i++){uint64_t a=addr[i],v=0; uint64_t pk=PK(w); {
   uint64_t off=(a>>(pk&63))&((uint64_t)65535<<5); const struct rec*r=(const struct rec*)(uintptr_t)((pk&~0xfffull)+off);
   if(a-r->start<r->lim8){memcpy(&v,(const uint8_t*)(uintptr_t)(a+(uint64_t)(uintptr_t)r->data),8);} else v=slow(a);} s+=v;} return s;}
int main(int c,char**v){int fd=open(v[1],O_RDONLY);struct stat st;fstat(fd,&st);fsize=st.st_size;file=mmap(0,fsize,PROT_READ,MAP_SHARED,fd,0);
 // mid.dmp ranges: hard-coded from info -v
 struct {uint64_t s,z,rva;} R[]={{0x1c3a0000000ull,115277824,0x600},{0x1c3b0000000ull,4096,0x6df0600},{0xb2c1a3f000ull,8192,0x6df1600}};
 // make record table: shift 27
 unsigned k=27; recs=mmap(0,65536*32,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
 for(int j=0;j<3;j++){for(uint64_t b=R[j].s>>k;b<=(R[j].s+R[j].z-1)>>k;b++){struct rec*r=&recs[b&65535];r->start=R[j].s;r->len=R[j].z;r->lim8=R[j].z-7;r->data=file+R[j].rva;}}
 // bench_reader picks a range uniformly among the 4 listed ranges (the two adjacent 4K pages are separate there)
 struct {uint64_t s,z,rva;} L[]={{0x1c3a0000000ull,115277824,0x600},{0x1c3b0000000ull,4096,0x6df0600},{0xb2c1a3f000ull,4096,0x6df1600},{0xb2c1a40000ull,4096,0x6df2600}};
 for(size_t i=0;i<N;i++){int j=nr()%4;uint64_t o=(nr()%L[j].z)&~7ull;addr[i]=L[j].s+o;foff[i]=L[j].rva+o;}
 struct W w={(uint64_t)(uintptr_t)recs|(k-5)};
 uint8_t *mis=mmap(0,65536*32+4096,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); memcpy(mis+(k-5),recs,65536*32); struct W wc={(uint64_t)(uintptr_t)(mis+(k-5))};
 struct rec *dl=mmap(0,65536*32,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0); memcpy(dl,recs,65536*32); for(int q=0;q<65536;q++) dl[q].data=(const uint8_t*)(uintptr_t)((uint64_t)(uintptr_t)dl[q].data-dl[q].start); struct W wd={(uint64_t)(uintptr_t)dl|(k-5)};
 for(int round=0;round<9;round++){double t[6];uint64_t sm[6];
  for(int p=0;p<6;p++){int q=(p+round)%6;double t0=now();sm[q]= q==0?raw(0):q==1?recA(&w):q==2?recB(&w):q==3?recC(&wc):q==4?recD(&wd):rawx();t[q]=now()-t0;}
  printf("raw %.1f M/s  A %.3f B %.3f C %.3f D %.3f raw+10nop %.3f %s\n",N/t[0]/1e6,t[0]/t[1],t[0]/t[2],t[0]/t[3],t[0]/t[4],t[0]/t[5],(sm[0]==sm[1]&&sm[1]==sm[2]&&sm[2]==sm[3]&&sm[3]==sm[4]&&sm[4]==sm[5])?"":"MISMATCH");}
}
