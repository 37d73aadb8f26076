// The costi executable's allocator for C++ objects and GMP's numbers: replaces the global
// operator new and operator delete, and GMP's memory functions, of the `costi` program (and
// of nothing else: the libraries, the tests, the fuzzers and any program that links the
// interpreter keep the default allocator; not built under the sanitizers, whose runtimes
// replace operator new themselves).
//
// Why it exists (docs/performance.md, "Start-up"): a short `costi run` parses about 90 KB of
// library into some 9,000 small blocks and frees few of them. With glibc's malloc a quarter
// of its instructions went to malloc and free, and two thirds of its page faults to the heap
// growing a 4 KiB page at a time — on the virtual machines costi is measured on, the first
// touch of a page costs about 11 µs, more than the whole evaluation.
//
// How: one region of address space is reserved at the first allocation (nothing is committed
// until touched) and marked MADV_HUGEPAGE, so a kernel whose transparent huge pages are
// `always` or `madvise` backs it with 2 MiB pages: the start-up heap becomes a few faults.
// The region is cut into 64 KiB slabs, each serving one size class; a block's class is found
// from its slab, so blocks carry no header. Freed blocks go to their class's free list and
// are reused, so a long REPL session or sweep does not grow. Each thread has its own lists
// and slabs (no lock when allocating or freeing); an ended thread's blocks go to the next
// thread that needs that class. What it does not own:
//  - blocks larger than the largest class (256 KiB) and over-aligned new
//    (`std::align_val_t`) go to glibc's malloc, as before;
//  - when the region is used up, or cannot be reserved (an address-space limit), blocks
//    come from malloc instead — every pointer is told apart by the region's bounds.
// Memory a class has held is kept for that class (no return to the system before exit),
// which is what glibc's heap does too for small blocks.
#include <gmp.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

namespace {

// 1 GiB of address space: far beyond any start-up, and a bound, so a runaway input falls back
// to malloc (and its memory limit) rather than taking the address space. Only touched pages
// are committed (MAP_NORESERVE).
constexpr std::size_t region_bytes = std::size_t{1} << 30;
constexpr std::size_t huge_page = std::size_t{2} << 20;
constexpr unsigned slab_shift = 16;  // 64 KiB slabs
constexpr std::size_t slab_bytes = std::size_t{1} << slab_shift;
constexpr std::size_t slab_count = region_bytes / slab_bytes;

// Size classes: multiples of 16 up to 1 KiB (64 classes), then four classes per doubling up
// to 256 KiB (32 classes): a block wastes at most a quarter of its size.
constexpr unsigned small_classes = 64;
constexpr std::size_t small_limit = 1024;
constexpr std::size_t largest_class = std::size_t{256} << 10;
constexpr unsigned class_count = small_classes + 8 * 4;

constexpr unsigned class_of(std::size_t n) {
    if (n <= small_limit) return n == 0 ? 0 : static_cast<unsigned>((n + 15) / 16 - 1);
    const unsigned k = static_cast<unsigned>(std::bit_width(n - 1)) - 1;  // 2^k < n <= 2^(k+1)
    const std::size_t step = (std::size_t{1} << k) / 4;
    const std::size_t i = (n - (std::size_t{1} << k) + step - 1) / step;  // 1..4
    return small_classes + (k - 10) * 4 + static_cast<unsigned>(i) - 1;
}

constexpr std::size_t class_size(unsigned c) {
    if (c < small_classes) return (std::size_t{c} + 1) * 16;
    const unsigned k = (c - small_classes) / 4 + 10;
    const std::size_t i = (c - small_classes) % 4 + 1;
    return (std::size_t{1} << k) + i * ((std::size_t{1} << k) / 4);
}

static_assert(class_of(1) == 0 && class_size(0) == 16);
static_assert(class_of(1024) == 63 && class_size(63) == 1024);
static_assert(class_of(1025) == 64 && class_size(64) == 1280);
static_assert(class_of(largest_class) == class_count - 1 && class_size(class_count - 1) == largest_class);

struct FreeBlock {
    FreeBlock* next;
};

struct ClassState {
    FreeBlock* free = nullptr;
    char* bump = nullptr;  // the next unused block of the class's current slab
    char* end = nullptr;
    std::size_t count = 0;  // blocks on `free` (a thread's own lists)
};

// The blocks of class c that fill one slab: what moves between a thread and the orphans at
// once. A table, so that a free does not divide.
constexpr auto batches = [] {
    std::array<std::uint32_t, class_count> b{};
    for (unsigned c = 0; c < class_count; ++c)
        b[c] = static_cast<std::uint32_t>(class_size(c) >= slab_bytes ? 1 : slab_bytes / class_size(c));
    return b;
}();
constexpr std::size_t batch_of(unsigned c) { return batches[c]; }

// What every thread shares: the region, which class each slab serves, and what threads that
// ended left behind. All constant-initialised: operator new runs during static
// initialisation, before any constructor of this file could.
struct Region {
    std::atomic<bool> reserved{false};  // the region was tried (it may have failed)
    std::atomic_flag lock = ATOMIC_FLAG_INIT;  // reserving the region; the orphans
    char* base = nullptr;
    char* limit = nullptr;  // base + region_bytes, or nullptr without a region
    std::atomic<std::size_t> next_slab{0};
    std::atomic<bool> has_orphans{false};
    ClassState orphans[class_count] = {};  // the blocks of threads that ended, per class
    unsigned char slab_class[slab_count] = {};
};

constinit Region heap;

// Each thread's own free lists and current slabs, so that allocating and freeing take no
// lock: the threads of a long request's decode steps (interpreter/analysis.cpp) allocate at
// once, and on one shared spin lock they spent a third of their time waiting. Blocks are
// interchangeable within a class, so a block freed by another thread than the one that
// allocated it simply joins the freeing thread's list. When a thread ends, its lists and the
// rest of its slabs go to the orphans, which the next thread short of a class adopts.
// The first thread (the main thread: it allocates during static initialisation) uses
// `first_thread`; a later one a calloc'd array, freed when it ends. Thread-local storage holds
// only the pointer: the arrays themselves there cost every start-up a page fault.
constinit ClassState first_thread[class_count] = {};
constinit bool first_thread_taken = false;
constinit thread_local ClassState* mine = nullptr;
constinit thread_local bool ending = false;  // this thread has handed its lists back

class SpinLock {
public:
    SpinLock() {
        while (heap.lock.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    }
    ~SpinLock() { heap.lock.clear(std::memory_order_release); }
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;
};

// Puts the list first..last of class c on the orphans' list; the caller holds the lock.
void to_orphans(unsigned c, FreeBlock* first, FreeBlock* last) {
    last->next = heap.orphans[c].free;
    heap.orphans[c].free = first;
    heap.has_orphans.store(true, std::memory_order_relaxed);
}

// At the end of a thread: its blocks become orphans.
void hand_back(ClassState* classes) noexcept {
    SpinLock lock;
    for (unsigned c = 0; c < class_count; ++c) {
        ClassState& s = classes[c];
        ClassState& o = heap.orphans[c];
        if (s.bump != s.end) {
            if (o.bump == o.end) {  // the rest of the slab, untouched
                o.bump = s.bump;
                o.end = s.end;
            } else {  // the orphans hold a slab's rest already: these become free blocks
                for (; s.bump != s.end; s.bump += class_size(c)) {
                    auto* b = reinterpret_cast<FreeBlock*>(s.bump);
                    b->next = s.free;
                    s.free = b;
                }
            }
            s.bump = s.end = nullptr;
        }
        if (s.free != nullptr) {
            FreeBlock* tail = s.free;
            while (tail->next != nullptr) tail = tail->next;
            to_orphans(c, s.free, tail);
            s.free = nullptr;
        }
        s.count = 0;
    }
}

struct HandBack {
    HandBack() noexcept {}  // user-provided: the declaration below registers the destructor
    ~HandBack() {
        ClassState* classes = mine;
        mine = nullptr;
        ending = true;  // what the thread frees after this goes to the orphans
        if (classes == nullptr || classes == first_thread) return;
        hand_back(classes);
        std::free(classes);
    }
};

// This thread's lists, made on its first allocation or free; nullptr when calloc fails or
// the thread is ending (then allocations come from malloc and frees go to the orphans).
ClassState* new_thread_lists() {
    if (ending) return nullptr;
    if (__libc_single_threaded != 0 && !first_thread_taken) {
        first_thread_taken = true;  // the only thread there is: no race
        return mine = first_thread;
    }
    auto* classes = static_cast<ClassState*>(std::calloc(class_count, sizeof(ClassState)));
    if (classes == nullptr) return nullptr;
    mine = classes;
    static thread_local HandBack at_exit;
    (void)at_exit;
    return classes;
}

void reserve_region() {
    SpinLock lock;
    if (heap.reserved.load(std::memory_order_relaxed)) return;
    void* p = mmap(nullptr, region_bytes + huge_page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
        const auto start = reinterpret_cast<std::uintptr_t>(p);
        const std::uintptr_t aligned = (start + huge_page - 1) & ~(std::uintptr_t{huge_page} - 1);
        heap.base = reinterpret_cast<char*>(aligned);
        heap.limit = heap.base + region_bytes;
        // Advice only: a kernel without transparent huge pages keeps 4 KiB pages.
        madvise(heap.base, region_bytes, MADV_HUGEPAGE);
    }
    heap.reserved.store(true, std::memory_order_release);
}

bool in_region(const void* p) {
    const char* c = static_cast<const char*>(p);
    return heap.base != nullptr && c >= heap.base && c < heap.limit;
}

// The class of a block of the region: that of its slab.
unsigned class_of_block(const void* p) {
    return heap.slab_class[static_cast<std::size_t>(static_cast<const char*>(p) - heap.base) >> slab_shift];
}

// Takes some of what ended threads left in class c — a slab's worth of blocks at most, so
// that threads started together share them — and true when that gives this thread a block.
bool adopt(ClassState& s, unsigned c) {
    SpinLock lock;
    ClassState& o = heap.orphans[c];
    if (o.free != nullptr) {
        FreeBlock* last = o.free;
        std::size_t taken = 1;
        for (; taken < batch_of(c) && last->next != nullptr; ++taken) last = last->next;
        s.free = o.free;
        s.count = taken;
        o.free = last->next;
        last->next = nullptr;
        return true;
    }
    if (o.bump == o.end) return false;
    s.bump = o.bump;
    s.end = o.end;
    o.bump = o.end = nullptr;
    return true;
}

// Gives this thread's class c blocks: the orphans' if any, else a new slab (or, for classes
// above 64 KiB, a run of slabs holding one block); false when the region cannot hold it.
// Called with the class's free list and slab both used up.
bool refill(ClassState* classes, unsigned c) {
    if (heap.has_orphans.load(std::memory_order_relaxed) && adopt(classes[c], c)) return true;
    if (!heap.reserved.load(std::memory_order_acquire)) reserve_region();
    if (heap.base == nullptr) return false;
    const std::size_t size = class_size(c);
    const std::size_t slabs = size <= slab_bytes ? 1 : (size + slab_bytes - 1) / slab_bytes;
    const std::size_t first = heap.next_slab.fetch_add(slabs, std::memory_order_relaxed);
    if (first + slabs > slab_count) return false;  // used up: it stays so, and malloc serves
    char* start = heap.base + (first << slab_shift);
    heap.slab_class[first] = static_cast<unsigned char>(c);
    ClassState& s = classes[c];
    s.bump = start;
    s.end = start + (slabs == 1 ? slab_bytes - slab_bytes % size : size);
    return true;
}

// A thread's list of class c holds two slabs' worth: one goes to the orphans. Blocks that
// worker threads allocate and the main thread frees (a request's step results) would
// otherwise pile up on the main thread's lists while each request's workers took new slabs.
void release(ClassState& s, unsigned c) {
    FreeBlock* first = s.free;
    FreeBlock* last = first;
    for (std::size_t i = 1; i < batch_of(c); ++i) last = last->next;
    s.free = last->next;
    s.count -= batch_of(c);
    SpinLock lock;
    to_orphans(c, first, last);
}

void* allocate(std::size_t n) {
    ClassState* classes = mine;
    if (n <= largest_class && (classes != nullptr || (classes = new_thread_lists()) != nullptr)) {
        const unsigned c = class_of(n);
        ClassState& s = classes[c];
        if (s.free != nullptr || s.bump != s.end || refill(classes, c)) {
            if (FreeBlock* b = s.free) {
                s.free = b->next;
                --s.count;
                return b;
            }
            char* p = s.bump;
            s.bump += class_size(c);
            return p;
        }
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}

void deallocate(void* p) noexcept {
    if (p == nullptr) return;
    if (!in_region(p)) {
        std::free(p);
        return;
    }
    const unsigned c = class_of_block(p);
    auto* b = static_cast<FreeBlock*>(p);
    ClassState* classes = mine;
    if (classes == nullptr && (classes = new_thread_lists()) == nullptr) {  // no lists: to the orphans
        SpinLock lock;
        to_orphans(c, b, b);
        return;
    }
    ClassState& s = classes[c];
    b->next = s.free;
    s.free = b;
    // While the process has one thread there is no one to pass blocks to.
    if (++s.count > 2 * batch_of(c) && __libc_single_threaded == 0) release(s, c);
}

// GMP's numbers (every exact value beyond the machine-integer fast path) allocate their
// limbs through these, not through glibc's malloc: an analysis with --hw makes some 50,000
// such blocks, and glibc's malloc and free were a sixth of its instructions. GMP wants
// functions that never return null: out of memory ends the process as GMP's own do.
[[noreturn]] void gmp_out_of_memory() {
    static const char message[] = "costi: error: out of memory\n";
    (void)!::write(2, message, sizeof message - 1);
    std::abort();
}

void* gmp_allocate(std::size_t n) {
    try {
        return allocate(n);
    } catch (const std::bad_alloc&) {
        gmp_out_of_memory();
    }
}

void* gmp_reallocate(void* p, std::size_t old_size, std::size_t n) {
    if (p == nullptr) return gmp_allocate(n);
    if (!in_region(p)) {  // a block of malloc's (too large for a class, or from before the heap)
        if (void* q = std::realloc(p, n == 0 ? 1 : n)) return q;
        gmp_out_of_memory();
    }
    if (n <= largest_class && class_of(n) == class_of_block(p)) return p;  // the block already holds n bytes
    void* q = gmp_allocate(n);
    std::memcpy(q, p, old_size < n ? old_size : n);
    deallocate(p);
    return q;
}

void gmp_free(void* p, std::size_t) { deallocate(p); }

// Before main and before any static object of the program makes a number (priority 101 runs
// ahead of the default constructors); a block GMP took from malloc before that is still
// told apart by the region's bounds and given back to malloc.
__attribute__((constructor(101))) void route_gmp_to_heap() {
    mp_set_memory_functions(gmp_allocate, gmp_reallocate, gmp_free);
}

}  // namespace

namespace costi::heap {
// How many 64 KiB slabs of the region have been given out (tests/unit/heap_test.cpp).
std::size_t slabs_taken() noexcept {
    return std::min(::heap.next_slab.load(std::memory_order_relaxed), slab_count);
}
}  // namespace costi::heap

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { deallocate(p); }
void operator delete[](void* p) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t) noexcept { deallocate(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { deallocate(p); }
