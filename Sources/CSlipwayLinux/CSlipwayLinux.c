// The module is its header; this file gives the target something to compile.
#include "CSlipwayLinux.h"
