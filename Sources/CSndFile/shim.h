// CSndFile: the system libsndfile (Debian: libsndfile1-dev), found through pkg-config `sndfile`.
#include <sndfile.h>
