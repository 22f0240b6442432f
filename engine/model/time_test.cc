#include "engine/model/time.h"
#include <gtest/gtest.h>
