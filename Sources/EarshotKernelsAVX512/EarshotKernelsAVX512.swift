// EarshotKernelsAVX512: module placeholder; its issue fills it in.
