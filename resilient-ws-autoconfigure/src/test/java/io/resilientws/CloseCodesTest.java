package io.resilientws;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CloseCodesTest {

	@Test
	void theProtocolsRangeIsOneThousandToFourThousandNineHundredNinetyNine() {
		assertThat(CloseCodes.isValid(999)).isFalse();
		assertThat(CloseCodes.isValid(1000)).isTrue();
		assertThat(CloseCodes.isValid(4999)).isTrue();
		assertThat(CloseCodes.isValid(5000)).isFalse();
	}

	@Test
	void reservedCodesNeverTravelInACloseFrame() {
		assertThat(CloseCodes.isSendable(1004)).isFalse();
		assertThat(CloseCodes.isSendable(1005)).isFalse();
		assertThat(CloseCodes.isSendable(1006)).isFalse();
		assertThat(CloseCodes.isSendable(1015)).isFalse();
		assertThat(CloseCodes.isSendable(1013)).isTrue();
		assertThat(CloseCodes.isSendable(4000)).isTrue();
	}

	@Test
	void anApplicationClosesAsInTheBrowser() {
		assertThat(CloseCodes.isApplicationClose(1000)).isTrue();
		assertThat(CloseCodes.isApplicationClose(1001)).isTrue();
		assertThat(CloseCodes.isApplicationClose(1002)).isFalse();
		assertThat(CloseCodes.isApplicationClose(2999)).isFalse();
		assertThat(CloseCodes.isApplicationClose(3000)).isTrue();
		assertThat(CloseCodes.isApplicationClose(4999)).isTrue();
	}

}
