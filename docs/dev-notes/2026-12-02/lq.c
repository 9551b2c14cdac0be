/* SPDX-License-Identifier: MIT */
/* The experiment behind dir-slots.md (2026-12-02, issue 12): random 8-byte reads
 * over mid.dmp's ranges through lookups that differ only in how many loads of
 * the space's fields they make (cur: base, shift, count, table; masked: shift,
 * mask, table; mconst: shift, table; membed: shift, the table at a fixed offset;
 * mpack: table | shift in one word; hoist: none, the fields in registers).
 * Build: gcc -O2 -o lq lq.c; run: ./lq mid.dmp (mid.dmp: test_hmodel --big
 * mid.dmp 1500000).  Scratch code, kept to reproduce the figures; mid.dmp's
 * ranges are written in. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
struct rec { uint64_t start, lim8, len; const uint8_t *data; };
struct w { uint64_t base; uint64_t shift; uint64_t n; const struct rec *rec; uint64_t mask; const uint64_t *bias; };
static double cpu(void){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static uint64_t rs=88172645463325252ull; static uint64_t rnd(void){rs^=rs<<13;rs^=rs>>7;rs^=rs<<17;return rs;}
#define N 2000000
static uint64_t addr[N], foff[N];
__attribute__((noinline)) static double raw(const uint8_t *f, uint64_t fs, uint64_t *sum){
 double t=cpu(); uint64_t s=0; for(size_t i=0;i<N;i++){uint64_t o=foff[i]; if(o<fs&&fs-o>=8){uint64_t v;memcpy(&v,f+o,8);s+=v;}} *sum=s; return cpu()-t;}
/* current shape: reload fields each iteration */
__attribute__((noinline)) static double cur(const struct w *w, uint64_t *sum){
 double t=cpu(); uint64_t s=0; for(size_t i=0;i<N;i++){ const struct w *ww=w; __asm__("":"+r"(ww)); uint64_t a=addr[i];
  uint64_t b=(a-ww->base)>>ww->shift; if(b<ww->n){const struct rec*r=&ww->rec[b]; uint64_t o=a-r->start; if(o<r->lim8){uint64_t v;memcpy(&v,r->data+o,8);s+=v;continue;}} s+=1;} *sum=s; return cpu()-t;}
/* hoisted fields */
__attribute__((noinline)) static double hoist(const struct w *w, uint64_t *sum){
 double t=cpu(); uint64_t s=0; uint64_t base=w->base, sh=w->shift, n=w->n; const struct rec*rec=w->rec;
 for(size_t i=0;i<N;i++){ uint64_t a=addr[i];
  uint64_t b=(a-base)>>sh; if(b<n){const struct rec*r=&rec[b]; uint64_t o=a-r->start; if(o<r->lim8){uint64_t v;memcpy(&v,r->data+o,8);s+=v;continue;}} s+=1;} *sum=s; return cpu()-t;}
/* masked index, no n check, reload fields: shift, mask, rec */
__attribute__((noinline)) static double masked(const struct w *w, uint64_t *sum){
 double t=cpu(); uint64_t s=0; for(size_t i=0;i<N;i++){ const struct w *ww=w; __asm__("":"+r"(ww)); uint64_t a=addr[i];
  uint64_t b=(a>>ww->shift)&ww->mask; {const struct rec*r=&ww->rec[b]; uint64_t o=a-r->start; if(o<r->lim8){uint64_t v;memcpy(&v,r->data+o,8);s+=v;continue;}} s+=1;} *sum=s; return cpu()-t;}

#define MSK 16383
__attribute__((noinline)) static double mconst(const struct w *w, uint64_t *sum){
 double t=cpu(); uint64_t s=0; for(size_t i=0;i<N;i++){ const struct w *ww=w; __asm__("":"+r"(ww)); uint64_t a=addr[i];
  uint64_t b=(a>>ww->shift)&MSK; {const struct rec*r=&ww->rec[b]; uint64_t o=a-r->start; if(o<r->lim8){uint64_t v;memcpy(&v,r->data+o,8);s+=v;continue;}} s+=1;} *sum=s; return cpu()-t;}
struct we { uint64_t shift, pad[7]; struct rec rec[]; };
__attribute__((noinline)) static double membed(const struct we *w, uint64_t *sum){
 double t=cpu(); uint64_t s=0; for(size_t i=0;i<N;i++){ const struct we *ww=w; __asm__("":"+r"(ww)); uint64_t a=addr[i];
  uint64_t b=(a>>ww->shift)&MSK; {const struct rec*r=&ww->rec[b]; uint64_t o=a-r->start; if(o<r->lim8){uint64_t v;memcpy(&v,r->data+o,8);s+=v;continue;}} s+=1;} *sum=s; return cpu()-t;}

struct wp { uint64_t pk; };
__attribute__((noinline)) static double mpack(const struct wp *w, uint64_t *sum){
 double t=cpu(); uint64_t s=0; for(size_t i=0;i<N;i++){ const struct wp *ww=w; __asm__("":"+r"(ww)); uint64_t a=addr[i];
  uint64_t pk=ww->pk; if(pk){ size_t off=(size_t)(a>>(pk&63))&((size_t)16383<<5); const struct rec*r=(const struct rec*)(uintptr_t)((pk&~(uint64_t)0xFFF)+off); uint64_t o=a-r->start; if(o<r->lim8){uint64_t v;memcpy(&v,r->data+o,8);s+=v;continue;}} s+=1;} *sum=s; return cpu()-t;}
int main(int c,char**v){ int fd=open(v[1],O_RDONLY); off_t fs=lseek(fd,0,SEEK_END); const uint8_t*f=mmap(0,fs,PROT_READ,MAP_SHARED,fd,0);
 uint64_t rs_[4][3]={{0x1c3a0000000ull,0x6df0000,0},{0x1c3b0000000ull,0x1000,0},{0xb2c1a3f000ull,0x1000,0},{0xb2c1a40000ull,0x1000,0}};
 /* rvas: find via Memory64List */
 uint32_t ns,rva; memcpy(&ns,f+8,4);memcpy(&rva,f+12,4);
 for(uint32_t i=0;i<ns;i++){uint32_t t,r; memcpy(&t,f+rva+12*i,4); memcpy(&r,f+rva+12*i+8,4); if(t==9){uint64_t cnt,base;memcpy(&cnt,f+r,8);memcpy(&base,f+r+8,8);
   for(uint64_t j=0;j<cnt;j++){uint64_t s,l;memcpy(&s,f+r+16+16*j,8);memcpy(&l,f+r+24+16*j,8); for(int k=0;k<4;k++) if(rs_[k][0]==s) rs_[k][2]=base; base+=l;}}}
 for(size_t i=0;i<N;i++){int k=rnd()%4; uint64_t o=(rnd()%rs_[k][1])&~7ull; addr[i]=rs_[k][0]+o; foff[i]=rs_[k][2]+o;}

 uint64_t sg[3][3]={{rs_[0][0],rs_[0][1],rs_[0][2]},{rs_[1][0],rs_[1][1],rs_[1][2]},{rs_[2][0],0x2000,rs_[2][2]}};
 /* directory like build_dir: lo = min start, shift 27 */
 uint64_t lo=0xb2c1a3f000ull, sh=27, nb=((0x1c3b0001000ull-lo)>>sh)+1;
 struct rec *rec=calloc(nb,sizeof*rec);
 for(uint64_t b=0;b<nb;b++){ uint64_t bs=lo+(b<<sh); int best=-1; uint64_t most=0; for(int k=0;k<3;k++){uint64_t s=sg[k][0],e=s+sg[k][1]; uint64_t a=s>bs?s:bs, z=e<bs+(1ull<<sh)?e:bs+(1ull<<sh); if(z>a&&z-a>most){most=z-a;best=k;}}
   if(best<0)best=0; rec[b]=(struct rec){sg[best][0],sg[best][1]-7,sg[best][1],f+sg[best][2]};}
 /* masked table: 16384 slots, index (a>>27)&16383 */
 struct rec *mrec=aligned_alloc(4096,16384*sizeof*mrec); memset(mrec,0,16384*sizeof*mrec); for(int k=0;k<3;k++) for(uint64_t a=sg[k][0]>>sh; a<=(sg[k][0]+sg[k][1]-1)>>sh; a++) mrec[a&16383]=(struct rec){sg[k][0],sg[k][1]-7,sg[k][1],f+sg[k][2]};
 struct w W={lo,sh,nb,rec,16383,0}, MW={0,sh,0,mrec,16383,0};
 struct we *WE=calloc(1,sizeof(struct we)+16384*sizeof(struct rec)); WE->shift=sh; memcpy(WE->rec,mrec,16384*sizeof(struct rec));
 for(int round=0;round<7;round++){ uint64_t s4,s5,s6; double t4=mconst(&MW,&s4), t5=membed(WE,&s5); struct wp WP={(uint64_t)(uintptr_t)mrec | (sh-5)}; double t6=mpack(&WP,&s6); uint64_t s0,s1,s2,s3; double t0=raw(f,fs,&s0),t1=cur(&W,&s1),t2=hoist(&W,&s2),t3=masked(&MW,&s3);
  if(round==0)printf("%lu %lu %lu %lu\n",s0,s1,s2,s3); printf("raw %.1f M/s  cur %.3f hoist %.3f masked %.3f mconst %.3f membed %.3f mpack %.3f %s\n",N/t0/1e6,t0/t1,t0/t2,t0/t3,t0/t4,t0/t5,t0/t6,(s0==s1&&s1==s2&&s2==s3)?"ok":"SUMDIFF");}
}
