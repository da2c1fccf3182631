package io.resilientws.autoconfigure.health;

import java.util.List;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.EndpointId;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.web.AdditionalPathsMapper;
import org.springframework.boot.actuate.endpoint.web.WebServerNamespace;
import org.springframework.boot.health.actuate.endpoint.AdditionalHealthEndpointPath;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroup;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroupsPostProcessor;
import org.springframework.boot.health.actuate.endpoint.HttpCodeStatusMapper;
import org.springframework.boot.health.actuate.endpoint.StatusAggregator;

/**
 * Makes a health contributor a member of the {@code readiness} group, whatever else the group holds
 * (Spring Boot's probes group or one the application configured). Runs after Spring Boot's
 * availability-probes post-processor, which creates that group.
 */
final class ReadinessMembershipPostProcessor implements HealthEndpointGroupsPostProcessor {

	static final String READINESS = "readiness";

	private final String contributor;

	ReadinessMembershipPostProcessor(String contributor) {
		this.contributor = contributor;
	}

	@Override
	public HealthEndpointGroups postProcessHealthEndpointGroups(HealthEndpointGroups groups) {
		return new Groups(groups, this.contributor);
	}

	/** The groups, with the readiness group widened; keeps the additional paths (/readyz) of the groups it wraps. */
	private static final class Groups implements HealthEndpointGroups, AdditionalPathsMapper {

		private final HealthEndpointGroups delegate;

		private final String contributor;

		Groups(HealthEndpointGroups delegate, String contributor) {
			this.delegate = delegate;
			this.contributor = contributor;
		}

		@Override
		public HealthEndpointGroup getPrimary() {
			return this.delegate.getPrimary();
		}

		@Override
		public Set<String> getNames() {
			return this.delegate.getNames();
		}

		@Override
		public @Nullable HealthEndpointGroup get(String name) {
			HealthEndpointGroup group = this.delegate.get(name);
			return (group != null && READINESS.equals(name)) ? new Member(group, this.contributor) : group;
		}

		@Override
		public @Nullable List<String> getAdditionalPaths(EndpointId endpointId, WebServerNamespace webServerNamespace) {
			return (this.delegate instanceof AdditionalPathsMapper mapper)
					? mapper.getAdditionalPaths(endpointId, webServerNamespace) : null;
		}

	}

	/** A group that also holds the contributor and everything below it. */
	private static final class Member implements HealthEndpointGroup {

		private final HealthEndpointGroup delegate;

		private final String contributor;

		Member(HealthEndpointGroup delegate, String contributor) {
			this.delegate = delegate;
			this.contributor = contributor;
		}

		@Override
		public boolean isMember(String name) {
			return this.delegate.isMember(name) || name.equals(this.contributor)
					|| name.startsWith(this.contributor + "/");
		}

		@Override
		public boolean showComponents(SecurityContext securityContext) {
			return this.delegate.showComponents(securityContext);
		}

		@Override
		public boolean showDetails(SecurityContext securityContext) {
			return this.delegate.showDetails(securityContext);
		}

		@Override
		public StatusAggregator getStatusAggregator() {
			return this.delegate.getStatusAggregator();
		}

		@Override
		public HttpCodeStatusMapper getHttpCodeStatusMapper() {
			return this.delegate.getHttpCodeStatusMapper();
		}

		@Override
		public @Nullable AdditionalHealthEndpointPath getAdditionalPath() {
			return this.delegate.getAdditionalPath();
		}

	}

}
