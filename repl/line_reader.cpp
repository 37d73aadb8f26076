// libedit on a terminal, plain getline otherwise.
#include "repl/line_reader.hpp"

#include <histedit.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cwchar>
#include <iostream>

#include "repl/libedit.hpp"

namespace costi::repl {

namespace {

volatile std::sig_atomic_t interrupt_flag = 0;
volatile std::sig_atomic_t resize_flag = 0;

extern "C" void on_sigint(int) {
    interrupt_flag = 1;
}
extern "C" void on_sigwinch(int) {
    resize_flag = 1;
}

// The history keeps this many lines: enough for weeks of exploring, small enough that
// rewriting the file after every line stays instant.
constexpr int history_size = 1000;

// A listing of completion candidates stops after this many: a screenful of names helps,
// three hundred kernel names scrolling past do not (type more letters to narrow them).
constexpr std::size_t max_listed = 120;

std::string common_prefix(const std::vector<std::string>& words) {
    std::string prefix = words.front();
    for (const auto& w : words) {
        std::size_t i = 0;
        while (i < prefix.size() && i < w.size() && prefix[i] == w[i]) ++i;
        prefix.resize(i);
    }
    return prefix;
}

int terminal_columns() {
    winsize ws{};
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

// Prints candidates in columns below the line being edited.
void list_candidates(const std::vector<std::string>& words) {
    std::size_t width = 0;
    for (const auto& w : words) width = std::max(width, w.size());
    width += 2;
    std::size_t columns = std::max<std::size_t>(1, static_cast<std::size_t>(terminal_columns()) / width);
    std::string out = "\n";
    std::size_t shown = std::min(words.size(), max_listed);
    for (std::size_t i = 0; i < shown; ++i) {
        bool last_in_row = (i + 1) % columns == 0 || i + 1 == shown;
        out += last_in_row ? words[i] + "\n" : words[i] + std::string(width - words[i].size(), ' ');
    }
    if (shown < words.size()) out += "… and " + std::to_string(words.size() - shown) + " more\n";
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
}

// Reads one line from stdin without its newline (and a \r before it), keeping at most
// max_line_bytes of it: the bytes of a longer line are read and dropped up to its newline.
LineReader::Status read_plain(std::string& line) {
    std::streambuf* in = std::cin.rdbuf();
    bool any = false;
    bool overflow = false;
    for (;;) {
        int c = in->sbumpc();
        if (c == std::char_traits<char>::eof()) {
            if (!any) return LineReader::Status::end;
            break;
        }
        any = true;
        if (c == '\n') break;
        if (overflow) continue;
        if (line.size() == max_line_bytes) {
            overflow = true;
            line.clear();
            line.shrink_to_fit();
            continue;
        }
        line += static_cast<char>(c);
    }
    if (overflow) return LineReader::Status::too_long;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return LineReader::Status::line;
}

}  // namespace

struct LineReader::Editor {
    EditLine* el = nullptr;
    History* hist = nullptr;
    HistEvent event{};
    std::string prompt;
    std::string history_path;
    Completer completer;
    bool interrupted = false;
    std::size_t line_bytes = 0;  // bytes read for the line being edited
    bool overflow = false;       // the line passed max_line_bytes: its rest is being dropped
    struct sigaction old_int {};
    struct sigaction old_winch {};

    static Editor* of(EditLine* el) {
        void* data = nullptr;
        libedit()->el_get(el, EL_CLIENTDATA, &data);
        return static_cast<Editor*>(data);
    }

    static char* prompt_of(EditLine* el) { return of(el)->prompt.data(); }

    // Reads one character for libedit. Our own reader, so that Ctrl-C ends the read at once
    // instead of being retried inside libedit. SIGINT and SIGWINCH stay blocked except
    // inside ppoll(), which unblocks them atomically: a Ctrl-C that lands while libedit is
    // busy between two reads is seen at the next one instead of being lost.
    static int read_char(EditLine* el, wchar_t* out) {
        Editor* ed = of(el);
        sigset_t blocked;
        sigset_t old;
        sigemptyset(&blocked);
        sigaddset(&blocked, SIGINT);
        sigaddset(&blocked, SIGWINCH);
        sigprocmask(SIG_BLOCK, &blocked, &old);
        struct Unblock {
            sigset_t* old;
            ~Unblock() { sigprocmask(SIG_SETMASK, old, nullptr); }
        } unblock{&old};
        std::mbstate_t state{};
        for (;;) {
            if (interrupt_flag != 0) {
                ed->interrupted = true;
                return -1;
            }
            if (resize_flag != 0) {
                resize_flag = 0;
                libedit()->el_resize(el);
            }
            pollfd p{STDIN_FILENO, POLLIN, 0};
            if (ppoll(&p, 1, nullptr, &old) < 0) {
                if (errno == EINTR) continue;
                return -1;
            }
            char c = 0;
            ssize_t n = ::read(STDIN_FILENO, &c, 1);
            if (n == 0) return 0;
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                return -1;
            }
            // Past max_line_bytes, the rest of the line is read and dropped (libedit's
            // buffer stays as it is); its newline then ends the line, which read() drops.
            bool newline = c == '\n' || c == '\r';
            if (!newline && ++ed->line_bytes > max_line_bytes) ed->overflow = true;
            if (ed->overflow) {
                if (!newline) continue;
                *out = L'\n';
                return 1;
            }
            wchar_t wc = 0;
            std::size_t r = std::mbrtowc(&wc, &c, 1, &state);
            if (r == static_cast<std::size_t>(-2)) continue;  // part of a multibyte character
            if (r == static_cast<std::size_t>(-1)) {
                state = {};
                wc = static_cast<unsigned char>(c);  // not valid in this locale: take the byte
            }
            *out = wc;
            return 1;
        }
    }

    static unsigned char complete(EditLine* el, int) {
        Editor* ed = of(el);
        const LineInfo* li = libedit()->el_line(el);
        std::string before(li->buffer, li->cursor);
        Completion c = ed->completer(before);
        if (c.candidates.empty() || c.word_begin > before.size()) return CC_REFRESH_BEEP;
        std::string word = before.substr(c.word_begin);
        std::string common = common_prefix(c.candidates);
        bool unique = c.candidates.size() == 1;
        if (common.size() > word.size() && common.compare(0, word.size(), word) == 0) {
            std::string rest = common.substr(word.size());
            if (unique && c.space_after) rest += ' ';
            libedit()->el_insertstr(el, rest.c_str());
            return CC_REFRESH;
        }
        if (unique) {
            if (c.space_after && (li->cursor == li->lastchar || *li->cursor != ' ')) libedit()->el_insertstr(el, " ");
            return CC_REFRESH;
        }
        list_candidates(c.candidates);
        return CC_REDISPLAY;
    }
};

LineReader::LineReader(Completer completer, const std::string& history_path) {
    if (isatty(STDIN_FILENO) == 0 || isatty(STDOUT_FILENO) == 0) return;
    if (libedit() == nullptr) return;  // libedit is not installed: read plain lines (libedit.hpp)
    // libedit decodes and displays multibyte characters by the locale's character type.
    std::setlocale(LC_CTYPE, "");
    auto ed = std::make_unique<Editor>();
    ed->el = libedit()->el_init("costi", stdin, stdout, stderr);
    if (ed->el == nullptr) return;  // no usable terminal: read plain lines
    ed->completer = std::move(completer);
    ed->history_path = history_path;

    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a read at the prompt must end on Ctrl-C
    sigaction(SIGINT, &sa, &ed->old_int);
    sa.sa_handler = on_sigwinch;
    sigaction(SIGWINCH, &sa, &ed->old_winch);

    libedit()->el_set(ed->el, EL_CLIENTDATA, ed.get());
    libedit()->el_set(ed->el, EL_EDITOR, "emacs");
    libedit()->el_set(ed->el, EL_SIGNAL, 0);  // signals are ours: see read_char
    // While a line is edited, Ctrl-C must not make the terminal throw away what was typed
    // after it or the prompt printed after it: read_char ends the line instead.
    libedit()->el_set(ed->el, EL_SETTY, "-d", "+noflsh", nullptr);
    libedit()->el_set(ed->el, EL_PROMPT, &Editor::prompt_of);
    libedit()->el_set(ed->el, EL_GETCFN, &Editor::read_char);
    libedit()->el_set(ed->el, EL_ADDFN, "costi-complete", "complete a command, name, config key or kernel", &Editor::complete);
    libedit()->el_set(ed->el, EL_BIND, "^I", "costi-complete", nullptr);

    ed->hist = libedit()->history_init();
    if (ed->hist != nullptr) {
        libedit()->history(ed->hist, &ed->event, H_SETSIZE, history_size);
        libedit()->history(ed->hist, &ed->event, H_SETUNIQUE, 1);
        if (!history_path.empty()) libedit()->history(ed->hist, &ed->event, H_LOAD, history_path.c_str());
        libedit()->el_set(ed->el, EL_HIST, libedit()->history, ed->hist);
    }
    libedit()->el_source(ed->el, nullptr);  // the user's ~/.editrc, as every libedit program reads it
    editor_ = std::move(ed);
}

LineReader::~LineReader() {
    if (!editor_) return;
    if (editor_->hist != nullptr) libedit()->history_end(editor_->hist);
    libedit()->el_end(editor_->el);
    sigaction(SIGINT, &editor_->old_int, nullptr);
    sigaction(SIGWINCH, &editor_->old_winch, nullptr);
}

bool LineReader::interactive() const {
    return editor_ != nullptr;
}

const volatile std::sig_atomic_t* LineReader::interrupt_flag_address() {
    return &interrupt_flag;
}

bool LineReader::take_interrupt() {
    bool was = interrupt_flag != 0;
    interrupt_flag = 0;
    return was;
}

LineReader::Status LineReader::read(const std::string& prompt, std::string& line) {
    line.clear();
    if (!editor_) return read_plain(line);
    interrupt_flag = 0;
    editor_->interrupted = false;
    editor_->line_bytes = 0;
    editor_->overflow = false;
    editor_->prompt = prompt;
    int count = 0;
    const char* text = libedit()->el_gets(editor_->el, &count);
    if (text == nullptr) {
        if (editor_->interrupted || interrupt_flag != 0) {
            interrupt_flag = 0;
            std::fputs("^C\n", stdout);
            std::fflush(stdout);
            return Status::interrupted;
        }
        std::fputs("\n", stdout);
        std::fflush(stdout);
        return Status::end;
    }
    if (editor_->overflow) return Status::too_long;
    line.assign(text, static_cast<std::size_t>(count));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return Status::line;
}

void LineReader::remember(const std::string& line) {
    if (!editor_ || editor_->hist == nullptr) return;
    if (line.find_first_not_of(" \t") == std::string::npos || line.size() > max_history_line_bytes) return;
    libedit()->history(editor_->hist, &editor_->event, H_ENTER, line.c_str());
    if (!editor_->history_path.empty()) libedit()->history(editor_->hist, &editor_->event, H_SAVE, editor_->history_path.c_str());
}

std::string default_history_path() {
    if (const char* p = std::getenv("COSTI_HISTORY"); p != nullptr && *p != '\0') return p;
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
        return std::string(home) + "/.costi_history";
    return "";
}

}  // namespace costi::repl
